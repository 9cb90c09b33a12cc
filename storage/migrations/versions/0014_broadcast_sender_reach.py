"""broadcast sender reach: which command runs each broadcast sender, and the channels it claims

Broadcasts are sent by ``loanbridge serve`` (its Telegram and WeChat, and the terminal through the outbox)
and also by ``loanbridge scheduler`` and ``loanbridge chat`` (the terminal only). Each sender's heartbeat
row now says which command it is and which channels it claims, so the CLI can tell who will send what it
creates, and which process to start when nobody will.

Revision ID: 0014_broadcast_sender_reach
Revises: 0013_case_log
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_broadcast_sender_reach"
down_revision: str | None = "0013_case_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows before this revision were serve's, which claimed every channel.
    with op.batch_alter_table("broadcast_senders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("process", sa.String(length=16), nullable=False, server_default="serve")
        )
        batch_op.add_column(
            sa.Column(
                "channels", sa.String(length=64), nullable=False, server_default="telegram,terminal,wechat"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcast_senders", schema=None) as batch_op:
        batch_op.drop_column("channels")
        batch_op.drop_column("process")
