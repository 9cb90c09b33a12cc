"""conversations: encrypted state, consent, verification lockout, harassment reports, draft reminders

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("consented_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("reminded_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("data_enc", sa.LargeBinary(), nullable=True))
        batch.drop_column("data")
        batch.create_index("ix_conversations_updated_at", ["updated_at"])
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_verification_failures_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    op.create_index("ix_verification_failures_account_at", "verification_failures", ["account_id", "at"])
    op.create_table(
        "harassment_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("details_enc", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_harassment_reports_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_harassment_reports_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harassment_reports")),
    )
    op.create_index("ix_harassment_reports_account_id", "harassment_reports", ["account_id"])
    op.create_index("ix_harassment_reports_case_id", "harassment_reports", ["case_id"])


def downgrade() -> None:
    op.drop_table("harassment_reports")
    op.drop_table("verification_failures")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_updated_at")
        batch.add_column(sa.Column("data", sa.JSON(), nullable=False, server_default="{}"))
        batch.drop_column("data_enc")
        batch.drop_column("reminded_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("consented_at")
