"""wechat: the shared access token, the 48-hour window, undeliverable messages

``wechat_tokens``: one access token per app id, shared by every process (sealed). ``wechat_followers``: when
each WeChat user last wrote (customer-service messages are allowed for 48 hours after) and the choices last
shown to them (sealed). ``wechat_waiting``: outbox messages that cannot be delivered until the person writes
again, kept out of delivery's look at the outbox meanwhile.

Revision ID: 0009_wechat
Revises: 0008_code_requests
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_wechat"
down_revision: str | None = "0008_code_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wechat_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", _MOMENT, nullable=False),
        sa.Column("refreshed_at", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_tokens")),
        sa.UniqueConstraint("app_id", name=op.f("uq_wechat_tokens_app_id")),
    )
    op.create_table(
        "wechat_followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("last_inbound_at", _MOMENT, nullable=True),
        sa.Column("choices_enc", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_followers")),
        sa.UniqueConstraint("openid", name=op.f("uq_wechat_followers_openid")),
    )
    op.create_table(
        "wechat_waiting",
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("since", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("outbox_key", name=op.f("pk_wechat_waiting")),
    )
    op.create_index(op.f("ix_wechat_waiting_openid"), "wechat_waiting", ["openid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_wechat_waiting_openid"), table_name="wechat_waiting")
    op.drop_table("wechat_waiting")
    op.drop_table("wechat_followers")
    op.drop_table("wechat_tokens")
