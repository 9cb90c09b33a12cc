"""code requests: every one-time code asked for, by account and by the phone's keyed hash

They hold the rate limits on codes (per account, per phone number) across processes. A request is
recorded whether or not the details typed matched a loan, so the limits say nothing about who has one;
the phone is kept only as a keyed hash.

Revision ID: 0008_code_requests
Revises: 0007_dead_letters
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_code_requests"
down_revision: str | None = "0007_dead_letters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "code_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_code_requests_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_requests")),
    )
    op.create_index("ix_code_requests_account_at", "code_requests", ["account_id", "at"])
    op.create_index("ix_code_requests_phone_at", "code_requests", ["phone_hash", "at"])


def downgrade() -> None:
    op.drop_index("ix_code_requests_phone_at", table_name="code_requests")
    op.drop_index("ix_code_requests_account_at", table_name="code_requests")
    op.drop_table("code_requests")
