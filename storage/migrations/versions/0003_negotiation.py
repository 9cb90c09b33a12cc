"""negotiation: invites, case messages, blind bids, cases waiting on their borrower

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("waiting_for", sa.String(length=32), nullable=True))
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("expires_at", _MOMENT, nullable=False),
        sa.Column("used_at", _MOMENT, nullable=True),
        sa.Column("used_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lender_id"], ["lenders.id"], name=op.f("fk_invites_lender_id_lenders")),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["accounts.id"], name=op.f("fk_invites_created_by_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_account_id"], ["accounts.id"], name=op.f("fk_invites_used_by_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invites_code_hash")),
    )
    op.create_table(
        "case_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender_account_id", sa.Integer(), nullable=True),
        sa.Column("sender_role", sa.String(length=16), nullable=True),
        sa.Column("recipients", sa.String(length=32), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_messages_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["sender_account_id"], ["accounts.id"], name=op.f("fk_case_messages_sender_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_messages")),
    )
    op.create_index("ix_case_messages_case_id", "case_messages", ["case_id"])
    op.create_table(
        "blind_bids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("proposer_role", sa.String(length=16), nullable=False),
        sa.Column("borrower_bound_enc", sa.LargeBinary(), nullable=True),
        sa.Column("lender_bound_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("decided_at", _MOMENT, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_blind_bids_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blind_bids")),
    )
    op.create_index("ix_blind_bids_case_id", "blind_bids", ["case_id"])
    op.create_index(
        "uq_blind_bids_one_open",
        "blind_bids",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_table("blind_bids")
    op.drop_table("case_messages")
    op.drop_table("invites")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("waiting_for")
