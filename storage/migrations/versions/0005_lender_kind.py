"""lender kind: which interest rule binds a lender, and a loan's own funder where a platform lends for several

Existing lenders become private lenders: the private-lending level (4×LPR) is the stricter one, so no
plan or check gets laxer until an operator records a licensed lender's kind.

Revision ID: 0005_lender_kind
Revises: 0004_keys
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_lender_kind"
down_revision: str | None = "0004_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds as of this revision (dialogs.rules.interest.LenderKind), written out: a migration must not
# change when the code's enum does.
_KINDS = "('private', 'microloan', 'consumer_finance', 'bank', 'trust')"


def upgrade() -> None:
    with op.batch_alter_table("lenders") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=32), nullable=False, server_default="private"))
        batch.create_check_constraint(op.f("ck_lenders_kind"), f"kind IN {_KINDS}")
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("lender_kind", sa.String(length=32), nullable=True))
        batch.create_check_constraint(op.f("ck_loans_lender_kind"), f"lender_kind IN {_KINDS}")


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_constraint(op.f("ck_loans_lender_kind"), type_="check")
        batch.drop_column("lender_kind")
    with op.batch_alter_table("lenders") as batch:
        batch.drop_constraint(op.f("ck_lenders_kind"), type_="check")
        batch.drop_column("kind")
