"""broadcasts: operator broadcasts and their recipients

Reserved in the chain so that work on several issues at once adds its tables without reordering
migrations; filled in by that work.

Revision ID: 0012_broadcasts
Revises: 0011_reminders
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_broadcasts"
down_revision: str | None = "0011_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
