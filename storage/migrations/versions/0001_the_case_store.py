"""the case store

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Every table of the case store, and triggers that keep the case log append-only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "inbound_keys",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("processed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "key", name=op.f("pk_inbound_keys")),
    )
    op.create_table(
        "lenders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("compliance_contact", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lenders")),
        sa.UniqueConstraint("name", name=op.f("uq_lenders_name")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_user_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('terminal', 'telegram', 'wechat', 'cli', 'system')", name=op.f("ck_accounts_channel")
        ),
        sa.CheckConstraint(
            "role <> 'lender' OR lender_id IS NOT NULL", name=op.f("ck_accounts_lender_staff_has_lender")
        ),
        sa.CheckConstraint("role IN ('borrower', 'lender', 'operator')", name=op.f("ck_accounts_role")),
        sa.ForeignKeyConstraint(["lender_id"], ["lenders.id"], name=op.f("fk_accounts_lender_id_lenders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("channel", "channel_user_id", name=op.f("uq_accounts_channel_channel_user_id")),
    )
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("loan_ref", sa.String(length=200), nullable=False),
        sa.Column("borrower_name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("principal", storage.types.Money(), nullable=False),
        sa.Column("annual_rate", storage.types.Rate(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("outstanding_principal", storage.types.Money(), nullable=False),
        sa.Column("outstanding_interest", storage.types.Money(), nullable=False),
        sa.Column("penalty", storage.types.Money(), nullable=False),
        sa.Column("fees", storage.types.Money(), nullable=False),
        sa.Column("overdue_days", sa.Integer(), nullable=False),
        sa.Column("imported_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lender_id"], ["lenders.id"], name=op.f("fk_loans_lender_id_lenders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("lender_id", "loan_ref", name=op.f("uq_loans_lender_id_loan_ref")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_id_number_hash"), ["id_number_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_broadcasts_created_by_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_account_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("lender_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("chosen_plan", sa.JSON(), nullable=True),
        sa.Column("deadline_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'approved', 'negotiating', 'agreed', 'active', 'completed', 'rejected', 'expired', 'escalated', 'defaulted', 'withdrawn', 'disputed', 'closed')",
            name=op.f("ck_cases_state"),
        ),
        sa.ForeignKeyConstraint(
            ["borrower_account_id"], ["accounts.id"], name=op.f("fk_cases_borrower_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["lender_id"], ["lenders.id"], name=op.f("fk_cases_lender_id_lenders")),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_cases_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cases_borrower_account_id"), ["borrower_account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cases_lender_id"), ["lender_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_state"), ["state"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_before", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_outbox_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_outbox_unsent", ["sent_at", "not_before"], unique=False)

    op.create_table(
        "broadcast_recipients",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_broadcast_recipients_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"], ["broadcasts.id"], name=op.f("fk_broadcast_recipients_broadcast_id_broadcasts")
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "account_id", name=op.f("pk_broadcast_recipients")),
    )
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.create_index("ix_broadcast_recipients_pending", ["broadcast_id", "status"], unique=False)

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_account_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("actor_channel", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_account_id"], ["accounts.id"], name=op.f("fk_case_events_actor_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("wrong_answers", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_conversations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_conversations_case_id_cases")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_ref", sa.String(length=500), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_evidence_files_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evidence_files_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_files")),
    )
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_files_case_id"), ["case_id"], unique=False)

    op.create_table(
        "finances",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("figures_enc", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_finances_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_finances")),
    )
    op.create_table(
        "hardships",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("lasting", sa.Boolean(), nullable=False),
        sa.Column("description_enc", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_hardships_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_hardships")),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("proposer_role", sa.String(length=16), nullable=False),
        sa.Column("proposer_account_id", sa.Integer(), nullable=True),
        sa.Column("plan_kind", sa.String(length=48), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("monthly_amount", storage.types.Money(), nullable=False),
        sa.Column("first_due_date", sa.Date(), nullable=True),
        sa.Column("amount_waived", storage.types.Money(), nullable=False),
        sa.Column("settlement_amount", storage.types.Money(), nullable=True),
        sa.Column("total_repaid", storage.types.Money(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_offers_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["proposer_account_id"], ["accounts.id"], name=op.f("fk_offers_proposer_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "uq_offers_one_pending",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("terms_version", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("borrower_confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lender_confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_agreements_case_id_cases")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_agreements_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("case_id", name=op.f("uq_agreements_case_id")),
    )
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", storage.types.Money(), nullable=False),
        sa.Column("paid_amount", storage.types.Money(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreements.id"], name=op.f("fk_instalments_agreement_id_agreements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("agreement_id", "number", name=op.f("uq_instalments_agreement_id_number")),
    )
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instalments_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instalments_due_date"), ["due_date"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("amount", storage.types.Money(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reported_by_account_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_account_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_payments_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["confirmed_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_payments_confirmed_by_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"], ["instalments.id"], name=op.f("fk_payments_instalment_id_instalments")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_payments_reported_by_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reminders_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reminders_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["instalment_id"], ["instalments.id"], name=op.f("fk_reminders_instalment_id_instalments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("key", name=op.f("uq_reminders_key")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_due_at"), ["due_at"], unique=False)
    _make_case_events_append_only()


def downgrade() -> None:
    _drop_case_events_triggers()
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_due_at"))

    op.drop_table("reminders")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_case_id"))

    op.drop_table("payments")
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instalments_due_date"))
        batch_op.drop_index(batch_op.f("ix_instalments_agreement_id"))

    op.drop_table("instalments")
    op.drop_table("agreements")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_offers_one_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_offers_case_id"))

    op.drop_table("offers")
    op.drop_table("hardships")
    op.drop_table("finances")
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_files_case_id"))

    op.drop_table("evidence_files")
    op.drop_table("conversations")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))

    op.drop_table("case_events")
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_recipients_pending")

    op.drop_table("broadcast_recipients")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unsent")
        batch_op.drop_index(batch_op.f("ix_outbox_account_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_state"))
        batch_op.drop_index(batch_op.f("ix_cases_loan_id"))
        batch_op.drop_index(batch_op.f("ix_cases_lender_id"))
        batch_op.drop_index(batch_op.f("ix_cases_borrower_account_id"))

    op.drop_table("cases")
    op.drop_table("broadcasts")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_loans_id_number_hash"))

    op.drop_table("loans")
    op.drop_table("accounts")
    op.drop_table("lenders")
    op.drop_table("inbound_keys")


_SQLITE_TRIGGERS = {
    "case_events_no_update": "BEFORE UPDATE ON case_events",
    "case_events_no_delete": "BEFORE DELETE ON case_events",
}


def _make_case_events_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, when in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'case events are append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
    )


def _drop_case_events_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute("DROP TRIGGER IF EXISTS case_events_append_only ON case_events")
    op.execute("DROP FUNCTION IF EXISTS case_events_append_only()")
