"""reminders: instalment reminders planned from the schedule, claimed by one scheduler, and the opt-out

``reminders`` learns which instalment date and offset a row was planned for (a moved instalment gets new
rows; the old ones are cancelled when they come due), whether it is the notice the borrower must get even
after ``/quiet``, a lease (``claimed_until``) so that two scheduler processes never work on one row, and
why a row ended without being sent. ``accounts.quiet_since``: when the person opted out of non-essential
messages (``/quiet``), NULL when they did not (broadcasts read it too).

Revision ID: 0011_reminders
Revises: 0010_payments
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011_reminders"
down_revision: str | None = "0010_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("quiet_since", _MOMENT, nullable=True))
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.add_column(sa.Column("planned_for", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("offset_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("essential", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("claimed_until", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_reminders_pending", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminders_instalment_id"), ["instalment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_instalment_id"))
        batch_op.drop_index("ix_reminders_pending")
        batch_op.drop_column("outcome")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("essential")
        batch_op.drop_column("offset_days")
        batch_op.drop_column("planned_for")
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("quiet_since")
