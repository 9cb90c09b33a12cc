"""keys and sealed outbox: a key check, encrypted outbox messages and evidence file names

The key check and the encryption of rows already present need the secret key, which migrations never
see: start-up records the check and seals older rows (storage.keys), so the plain columns become nullable
here and stay for those rows until then.

Revision ID: 0004_keys
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_keys"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_meta")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("message_enc", sa.LargeBinary(), nullable=True))
        batch.alter_column("context", existing_type=sa.JSON(), nullable=True)
        batch.alter_column("buttons", existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table("evidence_files") as batch:
        batch.add_column(sa.Column("file_enc", sa.LargeBinary(), nullable=True))
        batch.alter_column("storage_ref", existing_type=sa.String(length=500), nullable=True)


def downgrade() -> None:
    # Sealed rows cannot be opened here (no key): a downgrade keeps only what was never sealed.
    op.execute("DELETE FROM outbox WHERE context IS NULL")
    op.execute("DELETE FROM evidence_files WHERE storage_ref IS NULL")
    with op.batch_alter_table("evidence_files") as batch:
        batch.alter_column("storage_ref", existing_type=sa.String(length=500), nullable=False)
        batch.drop_column("file_enc")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("buttons", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("context", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("message_enc")
    op.drop_table("store_meta")
