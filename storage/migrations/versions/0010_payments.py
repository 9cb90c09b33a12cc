"""payments: reported, confirmed and disputed payments, the schedule's states

A payment the borrower reports waits for the lender's staff: confirmed, or disputed with a reason that a
mediator resolves (confirmed or rejected). A receipt is an evidence file. An instalment remembers when it
fell due before the tolerance moved it to the end of the plan.

Revision ID: 0010_payments
Revises: 0009_wechat
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_payments"
down_revision: str | None = "0009_wechat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        # Rows written before this revision were recorded by staff, never reported: they count as confirmed.
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="confirmed")
        )
        batch_op.add_column(sa.Column("evidence_file_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disputed_by_account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disputed_at", _MOMENT, nullable=True))
        batch_op.add_column(sa.Column("dispute_reason_enc", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("resolved_by_account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", _MOMENT, nullable=True))
        batch_op.create_index(batch_op.f("ix_payments_status"), ["status"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_evidence_file_id_evidence_files"),
            "evidence_files",
            ["evidence_file_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_disputed_by_account_id_accounts"),
            "accounts",
            ["disputed_by_account_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_resolved_by_account_id_accounts"),
            "accounts",
            ["resolved_by_account_id"],
            ["id"],
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_column("original_due_date")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payments_resolved_by_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_payments_disputed_by_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_payments_evidence_file_id_evidence_files"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_payments_status"))
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by_account_id")
        batch_op.drop_column("dispute_reason_enc")
        batch_op.drop_column("disputed_at")
        batch_op.drop_column("disputed_by_account_id")
        batch_op.drop_column("evidence_file_id")
        batch_op.drop_column("status")
