"""broadcasts: operator broadcasts and their recipients

A broadcast may wait for a time (``scheduled_at``). Each recipient row is claimed by a sender
(``claimed_by``), may be held until the person's hours open (``not_before``), and counts its attempts;
the pending index also orders by account so a page is read straight off it. ``broadcast_senders`` holds
each sending process's heartbeat: claims of a process that stopped beating are released.

Revision ID: 0012_broadcasts
Revises: 0011_reminders
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0012_broadcasts"
down_revision: str | None = "0011_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_at", _MOMENT, nullable=True))
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.drop_index("ix_broadcast_recipients_pending")
        batch_op.create_index(
            "ix_broadcast_recipients_pending", ["broadcast_id", "status", "account_id"], unique=False
        )
    op.create_table(
        "broadcast_senders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("beat_at", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_senders")),
    )


def downgrade() -> None:
    op.drop_table("broadcast_senders")
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_recipients_pending")
        batch_op.create_index("ix_broadcast_recipients_pending", ["broadcast_id", "status"], unique=False)
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("not_before")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("scheduled_at")
