"""case log: the Merkle log of case events, signed tree heads

Reserved in the chain so that work on several issues at once adds its tables without reordering
migrations; filled in by that work.

Revision ID: 0013_case_log
Revises: 0012_broadcasts
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013_case_log"
down_revision: str | None = "0012_broadcasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
