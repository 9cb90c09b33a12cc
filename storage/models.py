"""SQLAlchemy 2 models: the whole case store.

Personal data lives only in ``*_enc`` columns (AES-GCM, see :mod:`storage.crypto`) and is found through
``*_hash`` columns (HMAC-SHA256 of the normalised value). Money is exact (:func:`storage.types.Money`),
time is aware UTC (:class:`storage.types.UTCDateTime`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dialogs.domain import Channel, Role
from dialogs.lifecycle import CaseState
from dialogs.rules.interest import LenderKind
from storage.types import Money, Rate, UTCDateTime


def _in(column: str, values: type[Channel] | type[Role] | type[CaseState] | type[LenderKind]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Lender(Base):
    __tablename__ = "lenders"
    __table_args__ = (CheckConstraint(_in("kind", LenderKind), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    compliance_contact: Mapped[str | None] = mapped_column(String(200))
    # Which interest rule binds it (dialogs.rules.interest.LenderKind); private, the stricter, by default.
    kind: Mapped[str] = mapped_column(String(32), default=LenderKind.PRIVATE.value)
    created_at: Mapped[datetime]


class Account(Base):
    """A person on one channel. Lender staff carry their lender; roles are granted, never claimed."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("channel", "channel_user_id"),
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint("role <> 'lender' OR lender_id IS NOT NULL", name="lender_staff_has_lender"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), default=Role.BORROWER.value)
    lender_id: Mapped[int | None] = mapped_column(ForeignKey("lenders.id"))
    locale: Mapped[str] = mapped_column(String(16), default="zh_CN")
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Explicit consent to sensitive personal information (PIPL art. 29): nothing sensitive is asked before it.
    consented_at: Mapped[datetime | None]
    # When the person opted out of non-essential messages (/quiet); None while they get them all.
    quiet_since: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Loan(Base):
    """One loan of a lender's imported loan book."""

    __tablename__ = "loans"
    __table_args__ = (
        UniqueConstraint("lender_id", "loan_ref"),
        CheckConstraint(_in("lender_kind", LenderKind), name="lender_kind"),  # NULL passes: the lender's
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("lenders.id"))
    loan_ref: Mapped[str] = mapped_column(String(200))
    borrower_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    principal: Mapped[Decimal] = mapped_column(Money())
    annual_rate: Mapped[Decimal] = mapped_column(Rate())
    start_date: Mapped[date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer)
    outstanding_principal: Mapped[Decimal] = mapped_column(Money())
    outstanding_interest: Mapped[Decimal] = mapped_column(Money())
    penalty: Mapped[Decimal] = mapped_column(Money())
    fees: Mapped[Decimal] = mapped_column(Money())
    overdue_days: Mapped[int] = mapped_column(Integer)
    lender_kind: Mapped[str | None] = mapped_column(String(32))  # the funder's kind, when not the lender's
    imported_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Case(Base):
    """A borrower's application and everything that follows. ``state`` changes only through the store."""

    __tablename__ = "cases"
    __table_args__ = (CheckConstraint(_in("state", CaseState), name="state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    lender_id: Mapped[int | None] = mapped_column(ForeignKey("lenders.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    chosen_plan: Mapped[dict[str, Any] | None]
    deadline_at: Mapped[datetime | None]  # by when the side whose turn it is must answer
    # Set while the case waits on its borrower (more information for the reviewer): out of the queue.
    waiting_for: Mapped[str | None] = mapped_column(String(32))
    # The sequence number of the case's newest event: the next event takes this plus one (storage.case_log).
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CaseEvent(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the first migration). Each event is an
    entry of the case log (storage.case_log): ``seq`` numbers a case's events 1, 2, 3… in the transaction
    that writes them."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    actor_channel: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]]


class CaseLogPending(Base):
    """A committed case event the sequencer has not yet given a place in the log (Trillian's queue)."""

    __tablename__ = "case_log_pending"
    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"), primary_key=True, autoincrement=False)


class CaseLogLeaf(Base):
    """The event at position ``leaf_index`` of the case log and its RFC 6962 leaf hash. No foreign key to
    the event on purpose: the log is its witness, and names it (case, seq) if it is ever removed."""

    __tablename__ = "case_log_leaves"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)
    case_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    entry: Mapped[bytes] = mapped_column(LargeBinary)  # the canonical entry logged (storage.case_log)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class CaseLogNode(Base):
    """The hash of a complete subtree of the log (2**level leaves from position * 2**level), kept for the
    upper levels so a proof reads a few rows, never the whole log."""

    __tablename__ = "case_log_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class SignedTreeHead(Base):
    """The platform's Ed25519 signature over (tree size, root hash, time): what is published and proved
    against."""

    __tablename__ = "case_log_heads"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime]
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_fingerprint: Mapped[str] = mapped_column(String(64))


class Hardship(Base):
    __tablename__ = "hardships"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    lasting: Mapped[bool] = mapped_column(Boolean)
    description_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # may reveal health: sensitive
    updated_at: Mapped[datetime]


class Finances(Base):
    """Income and expense figures, encrypted together as one JSON document."""

    __tablename__ = "finances"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    figures_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class EvidenceFile(Base):
    __tablename__ = "evidence_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    purpose: Mapped[str] = mapped_column(String(32))  # hardship, harassment, payment
    # The name as sent (often the person's name and ID number) and where the file is (a path carries the
    # name too), encrypted together as JSON {"name", "ref"}. The two plain columns below are only read
    # for rows written before 0004 until start-up seals them (storage.keys).
    file_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_ref: Mapped[str | None] = mapped_column(String(500))  # legacy: now inside file_enc
    created_at: Mapped[datetime]


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        # At most one pending offer per case, enforced by the database itself.
        Index(
            "uq_offers_one_pending",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    proposer_role: Mapped[str] = mapped_column(String(16))
    proposer_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    plan_kind: Mapped[str] = mapped_column(String(48))
    months: Mapped[int] = mapped_column(Integer)
    monthly_amount: Mapped[Decimal] = mapped_column(Money())
    first_due_date: Mapped[date | None] = mapped_column(Date)
    amount_waived: Mapped[Decimal] = mapped_column(Money())
    settlement_amount: Mapped[Decimal | None] = mapped_column(Money())
    total_repaid: Mapped[Decimal] = mapped_column(Money())
    terms: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # pending accepted rejected countered withdrawn expired
    deadline_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class Agreement(Base):
    __tablename__ = "agreements"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    terms_version: Mapped[int] = mapped_column(Integer)
    terms: Mapped[dict[str, Any]]
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    borrower_confirmed_at: Mapped[datetime | None]
    lender_confirmed_at: Mapped[datetime | None]
    # The platform's signed block (storage.signed_agreement), once both confirmations are in the case log.
    signed_block: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_amount: Mapped[Decimal] = mapped_column(Money())
    # What the confirmed payments cover (due, partly_paid, paid); "late" depends on the day and is worked out
    # when shown (dialogs.rules.supervision).
    status: Mapped[str] = mapped_column(String(16))
    moved: Mapped[bool] = mapped_column(Boolean, default=False)  # the tolerance: moved to the end of the plan
    original_due_date: Mapped[date | None] = mapped_column(Date)  # when it fell due before it was moved


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    reported_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reported_at: Mapped[datetime]
    confirmed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    confirmed_at: Mapped[datetime | None]
    # reported -> confirmed | disputed; disputed -> confirmed | rejected (a mediator resolves it)
    status: Mapped[str] = mapped_column(String(16), index=True)
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id"))  # the receipt
    disputed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    disputed_at: Mapped[datetime | None]
    dispute_reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # staff's words: may name people
    resolved_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    resolved_at: Mapped[datetime | None]


class Reminder(Base):
    """One reminder that is due or was sent; ``key`` makes scheduling it twice harmless.

    Planned from an instalment (``planned_for``: its due date then, ``offset_days`` from it); a row whose
    instalment has since moved or been paid is cancelled when it comes due, never sent. ``claimed_until``
    is a scheduler's lease on the row, so two schedulers never work on it at once.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_pending", "status", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # pending sent cancelled
    planned_for: Mapped[date | None] = mapped_column(Date)
    offset_days: Mapped[int | None] = mapped_column(Integer)
    # The notice the borrower must get even after /quiet (the missed-instalment notice before default).
    essential: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_until: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # sent, or why not: paid, moved, quiet, ...


class Broadcast(Base):
    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    template: Mapped[str] = mapped_column(String(200))
    context: Mapped[dict[str, Any]]
    segment: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # dialogs.broadcasts.BroadcastStatus
    created_at: Mapped[datetime]
    scheduled_at: Mapped[datetime | None]  # --at: not sent before then
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BroadcastRecipient(Base):
    """One recipient of a broadcast, materialised when it is created: senders claim them in pages."""

    __tablename__ = "broadcast_recipients"
    # A sender's page is the next rows of one status in account order: read straight off this index.
    __table_args__ = (Index("ix_broadcast_recipients_pending", "broadcast_id", "status", "account_id"),)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # dialogs.broadcasts.RecipientStatus
    not_before: Mapped[datetime | None]  # held: the recipient's hours open then
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the sender (broadcast_senders.id) sending it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))


class BroadcastSender(Base):
    """A process sending broadcasts (``loanbridge serve``, ``scheduler`` or ``chat``), alive while its beat
    is recent: its claims are released when it stops beating, and the CLI knows whether anyone will send
    what it creates, and to which channels."""

    __tablename__ = "broadcast_senders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[datetime]
    process: Mapped[str] = mapped_column(String(16), default="serve")  # the command that runs it
    channels: Mapped[str] = mapped_column(String(64), default="")  # the channels it claims, comma-separated


class Conversation(Base):
    """Where a person is in a dialog: ``(flow, step, data)``, so a restart resumes there."""

    __tablename__ = "conversations"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    # Answers in progress can be anything the person typed (an ID number, an income): encrypted JSON.
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    wrong_answers: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]  # the one reminder about an abandoned draft


class VerificationFailure(Base):
    """A failed identity check; enough of them in an hour lock verification for an hour."""

    __tablename__ = "verification_failures"
    __table_args__ = (Index("ix_verification_failures_account_at", "account_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime]


class CodeRequest(Base):
    """A one-time code asked for (matching details or not): the rate limits per account and per phone."""

    __tablename__ = "code_requests"
    __table_args__ = (
        Index("ix_code_requests_account_at", "account_id", "at"),
        Index("ix_code_requests_phone_at", "phone_hash", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    phone_hash: Mapped[str] = mapped_column(String(64))  # keyed hash: the number itself is never kept
    at: Mapped[datetime]


class HarassmentReport(Base):
    """Who, when, how (and any evidence), encrypted: it names people and may describe threats."""

    __tablename__ = "harassment_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    details_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # open, then the outcome (upheld, not_upheld, passed_on)
    created_at: Mapped[datetime]
    outcome_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary
    )  # {"outcome", "note"}: the note may name people
    decided_at: Mapped[datetime | None]


class HelpRequest(Base):
    """Someone asked to talk to a person: who, on which case (if any), why, and what they wrote (sealed)."""

    __tablename__ = "help_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # asked, stuck (wrong answers), unexpected (an error)
    details_enc: Mapped[bytes] = mapped_column(LargeBinary)  # {"step", "message"}
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, handled
    created_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    handled_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class InboundKey(Base):
    """An inbound update already handled (Telegram update_id, WeChat MsgId): redelivery is ignored."""

    __tablename__ = "inbound_keys"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime]


class DeadLetter(Base):
    """An inbound update that could not be committed after a few attempts: acknowledged so it stops holding
    everyone else's, its sender apologised to, and kept here for an operator with the error (no content)."""

    __tablename__ = "dead_letters"
    __table_args__ = (UniqueConstraint("channel", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    error: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """A reply or notification committed with the change that caused it, sent after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    template: Mapped[str] = mapped_column(String(200))
    # What the template is rendered from (an export, a case summary, an invite code) and the buttons,
    # encrypted as one JSON document. The plain columns are only read for rows written before 0004
    # until start-up seals them (storage.keys).
    message_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    context: Mapped[dict[str, Any] | None]
    buttons: Mapped[list[Any] | None]
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]  # collection-conduct windows push lender messages and reminders here
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    failed: Mapped[bool] = mapped_column(Boolean, default=False)


class Invite(Base):
    """A one-time code that makes an account its lender's staff; only its keyed hash is kept."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("lenders.id"))
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class CaseMessage(Base):
    """Words people wrote on a case (relayed, the mediator's, a reason): encrypted, they may say anything."""

    __tablename__ = "case_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sender_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    sender_role: Mapped[str | None] = mapped_column(String(16))
    recipients: Mapped[str] = mapped_column(String(32))  # roles, comma-separated
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class BlindBidRow(Base):
    """A blind-bid round; the bounds are encrypted and never leave the store except to decide it."""

    __tablename__ = "blind_bids"
    __table_args__ = (
        Index(
            "uq_blind_bids_one_open",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    proposer_role: Mapped[str] = mapped_column(String(16))
    borrower_bound_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    lender_bound_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # open, then no_overlap or overlap, then settled
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class StoreMeta(Base):
    """Facts about the store itself: which key its data is under, and a key rotation's progress."""

    __tablename__ = "store_meta"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class WeChatToken(Base):
    """The WeChat API access token, one row per app id, shared by every process: WeChat invalidates a
    token soon after a new one is fetched, so processes must not each fetch their own. Sealed at rest."""

    __tablename__ = "wechat_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), unique=True)
    token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime]
    refreshed_at: Mapped[datetime]


class WeChatFollower(Base):
    """A WeChat user as the channel knows them: when they last wrote (customer-service messages are allowed
    for 48 hours after that) and the choices last shown to them (what a typed number or a menu tap means),
    sealed: a choice's words can carry amounts."""

    __tablename__ = "wechat_followers"
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(128), unique=True)
    last_inbound_at: Mapped[datetime | None]
    choices_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class WeChatWaiting(Base):
    """An outbox message WeChat does not let us deliver yet (the person has not written for 48 hours):
    kept out of delivery's look at the outbox until they write again. ``notified``: a template message told
    them to open the chat; False when no template is configured for its kind (operators see the count)."""

    __tablename__ = "wechat_waiting"
    outbox_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    openid: Mapped[str] = mapped_column(String(128), index=True)
    template: Mapped[str] = mapped_column(String(200))
    notified: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime]
