"""case log: the Merkle log of case events, signed tree heads

Every case event becomes an entry of one append-only RFC 6962 Merkle log (storage.case_log). Events get a
per-case sequence number (``case_events.seq``, counted by ``cases.last_event_seq`` in the writing
transaction); committed events wait in ``case_log_pending`` until the sequencer gives them a place
(``case_log_leaves``), keeps the upper subtree hashes (``case_log_nodes``) and signs a tree head
(``case_log_heads``). Events written before this revision are numbered in id order and queued, so the
first run of the sequencer logs them.

Revision ID: 0013_case_log
Revises: 0012_broadcasts
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013_case_log"
down_revision: str | None = "0012_broadcasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    _number_existing_events()
    op.create_table(
        "case_log_pending",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["case_events.id"], name=op.f("fk_case_log_pending_event_id_case_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_case_log_pending")),
    )
    op.execute("INSERT INTO case_log_pending (event_id) SELECT id FROM case_events")
    op.create_table(
        "case_log_leaves",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_case_log_leaves")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_case_log_leaves_case_id_seq")),
        sa.UniqueConstraint("event_id", name=op.f("uq_case_log_leaves_event_id")),
    )
    op.create_table(
        "case_log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_case_log_nodes")),
    )
    op.create_table(
        "case_log_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", _MOMENT, nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_case_log_heads")),
    )
    op.add_column("agreements", sa.Column("signed_block", sa.Text(), nullable=True))
    _number_and_queue_new_events()


def downgrade() -> None:
    _drop_number_and_queue()
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("signed_block")
    op.drop_table("case_log_heads")
    op.drop_table("case_log_nodes")
    op.drop_table("case_log_leaves")
    op.drop_table("case_log_pending")
    _drop_append_only()
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_case_events_case_id_seq"), type_="unique")
        batch_op.drop_column("seq")
    _make_append_only()
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("last_event_seq")


def _number_existing_events() -> None:
    """seq 1, 2, 3… per case in id order (the order they were written), then NOT NULL and unique. The
    append-only triggers are lifted for this one numbering (SQLite's table rebuild drops them anyway)."""
    _drop_append_only()
    op.add_column("case_events", sa.Column("seq", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE case_events SET seq = (SELECT count(*) FROM case_events AS earlier "
        "WHERE earlier.case_id = case_events.case_id AND earlier.id <= case_events.id)"
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_case_events_case_id_seq"), ["case_id", "seq"])
    _make_append_only()
    op.add_column(
        "cases", sa.Column("last_event_seq", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.execute(
        "UPDATE cases SET last_event_seq = (SELECT coalesce(max(seq), 0) FROM case_events "
        "WHERE case_events.case_id = cases.id)"
    )


# The same triggers as the first migration's (0001_the_case_store).
_SQLITE_TRIGGERS = {
    "case_events_no_update": "BEFORE UPDATE ON case_events",
    "case_events_no_delete": "BEFORE DELETE ON case_events",
}


def _make_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, when in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END"
            )
        return
    op.execute(
        "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
    )


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute("DROP TRIGGER IF EXISTS case_events_append_only ON case_events")  # the function stays


def _number_and_queue_new_events() -> None:
    """Every new event: its case's counter moves to its number, and it is queued for the sequencer, in the
    inserting transaction. SQLite (one writer at a time) takes the number the INSERT computed from the
    counter (storage.case_log); PostgreSQL numbers it here, under the case row's lock, so two processes
    writing to one case at once still number 1, 2, 3."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER case_events_logged AFTER INSERT ON case_events BEGIN "
            "UPDATE cases SET last_event_seq = max(last_event_seq, NEW.seq) WHERE id = NEW.case_id; "
            "INSERT INTO case_log_pending (event_id) VALUES (NEW.id); END"
        )
        return
    op.execute(
        "CREATE FUNCTION case_events_number() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE cases SET last_event_seq = last_event_seq + 1 WHERE id = NEW.case_id "
        "RETURNING last_event_seq INTO NEW.seq; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER case_events_number BEFORE INSERT ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION case_events_number()"
    )
    op.execute(
        "CREATE FUNCTION case_events_queue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO case_log_pending (event_id) VALUES (NEW.id); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER case_events_queue AFTER INSERT ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION case_events_queue()"
    )


def _drop_number_and_queue() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS case_events_logged")
        return
    op.execute("DROP TRIGGER IF EXISTS case_events_queue ON case_events")
    op.execute("DROP TRIGGER IF EXISTS case_events_number ON case_events")
    op.execute("DROP FUNCTION IF EXISTS case_events_queue()")
    op.execute("DROP FUNCTION IF EXISTS case_events_number()")
