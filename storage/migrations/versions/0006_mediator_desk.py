"""mediator desk: requests to talk to a person, and the outcome of each harassment report

A request ("talk to a person") names the person and, when they have one, their case; what they wrote is
sealed like every other free text. A harassment report keeps its outcome (upheld, not upheld, passed to
the lender's compliance contact) and the mediator's note, sealed, beside its status.

Revision ID: 0006_mediator_desk
Revises: 0005_lender_kind
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006_mediator_desk"
down_revision: str | None = "0005_lender_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _MOMENT, nullable=False),
        sa.Column("handled_at", _MOMENT, nullable=True),
        sa.Column("handled_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_help_requests_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_help_requests_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["handled_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_help_requests_handled_by_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
    )
    op.create_index(op.f("ix_help_requests_account_id"), "help_requests", ["account_id"])
    op.create_index(op.f("ix_help_requests_case_id"), "help_requests", ["case_id"])
    op.create_index(op.f("ix_help_requests_status"), "help_requests", ["status"])
    with op.batch_alter_table("harassment_reports") as batch:
        batch.add_column(sa.Column("outcome_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("decided_at", _MOMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("harassment_reports") as batch:
        batch.drop_column("decided_at")
        batch.drop_column("outcome_enc")
    op.drop_index(op.f("ix_help_requests_status"), table_name="help_requests")
    op.drop_index(op.f("ix_help_requests_case_id"), table_name="help_requests")
    op.drop_index(op.f("ix_help_requests_account_id"), table_name="help_requests")
    op.drop_table("help_requests")
