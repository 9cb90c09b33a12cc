"""wechat: the shared access token, the 48-hour window, undeliverable messages

Reserved in the chain so that work on several issues at once adds its tables without reordering
migrations; filled in by that work.

Revision ID: 0009_wechat
Revises: 0008_code_requests
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_wechat"
down_revision: str | None = "0008_code_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
