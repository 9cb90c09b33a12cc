"""dead letters: inbound updates that could not be committed, kept for operators with their error

An update whose turn fails to commit a few times over (a damaged conversation row) is recorded here,
acknowledged and apologised for, so that it stops holding everyone else's updates. Only the channel, the
update's key, the sender's account and the error are kept: never what the person wrote.

Revision ID: 0007_dead_letters
Revises: 0006_mediator_desk
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007_dead_letters"
down_revision: str | None = "0006_mediator_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_dead_letters_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("channel", "key", name=op.f("uq_dead_letters_channel_key")),
    )
    op.create_index(op.f("ix_dead_letters_account_id"), "dead_letters", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dead_letters_account_id"), table_name="dead_letters")
    op.drop_table("dead_letters")
