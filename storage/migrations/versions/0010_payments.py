"""payments: reported, confirmed and disputed payments, the schedule's states

Reserved in the chain so that work on several issues at once adds its tables without reordering
migrations; filled in by that work.

Revision ID: 0010_payments
Revises: 0009_wechat
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_payments"
down_revision: str | None = "0009_wechat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
