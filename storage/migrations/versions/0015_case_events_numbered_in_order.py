"""case events numbered in order: on PostgreSQL an event's id is taken under its case's lock

The sequencer places queued events in id order. PostgreSQL takes a row's id from its sequence before the
numbering trigger waits for the case row's lock, so two writers of one case could get ids in one order
and case numbers in the other (id 100 numbered 12, id 101 numbered 11), and the log would then hold the
case's 12th event before its 11th. The trigger now takes the id too, once it holds the lock: a case's ids
and numbers rise together, and a later number is committed only after the earlier one was. SQLite has one
writer at a time and needs no change. (The column's default still draws an id first, so ids now rise by
two an event: harmless, ids are names, not counts.)

Revision ID: 0015_case_events_in_order
Revises: 0014_broadcast_sender_reach
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_case_events_in_order"
down_revision: str | None = "0014_broadcast_sender_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NUMBER_ONLY = (
    "UPDATE cases SET last_event_seq = last_event_seq + 1 WHERE id = NEW.case_id "
    "RETURNING last_event_seq INTO NEW.seq; "
)


def _number_function(body: str) -> str:
    return f"CREATE OR REPLACE FUNCTION case_events_number() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}RETURN NEW; END $$"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_number_function(_NUMBER_ONLY + "NEW.id := nextval('case_events_id_seq'); "))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_number_function(_NUMBER_ONLY))
