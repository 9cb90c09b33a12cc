"""Ports: what the core needs from outside, as small Protocols that ``storage`` and ``bot`` implement."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from dialogs.broadcasts import Preview, Progress, Segment
from dialogs.conversation import Conversation
from dialogs.domain import (
    Account,
    Actor,
    Agreement,
    BlindBid,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStats,
    Channel,
    Erasure,
    FileRef,
    Hardship,
    ImportSummary,
    Lender,
    Loan,
    LoanRow,
    MessageKind,
    Offer,
    Payment,
    Role,
)
from dialogs.lifecycle import CaseState
from dialogs.messages import HeldMessage, Inbound, Outbound, Queued
from dialogs.rules.affordability import Finances
from dialogs.rules.interest import LenderKind
from dialogs.rules.reminders import Digest, ReminderDue, ReminderPolicy
from dialogs.rules.supervision import Due


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class CaseStore(Protocol):
    """The shared case store. Each call is one unit of work: it commits whole or changes nothing."""

    async def add_lender(
        self, name: str, *, compliance_contact: str | None = None, kind: LenderKind = LenderKind.PRIVATE
    ) -> Lender: ...

    async def lender_by_name(self, name: str) -> Lender: ...

    async def ensure_account(
        self,
        channel: Channel,
        channel_user_id: str,
        *,
        locale: str | None = None,
        time_zone: str | None = None,
    ) -> Account: ...

    async def grant_role(
        self, channel: Channel, channel_user_id: str, role: Role, *, lender_name: str | None = None
    ) -> Account: ...

    async def account(self, account_id: int) -> Account: ...

    async def import_loan_book(self, lender_name: str, rows: Sequence[LoanRow]) -> ImportSummary: ...

    async def find_loans(
        self,
        *,
        id_number: str | None = None,
        phone: str | None = None,
        loan_ref: str | None = None,
        lender_id: int | None = None,
    ) -> list[Loan]: ...

    async def loan(self, loan_id: int) -> Loan: ...

    async def open_case(self, borrower_account_id: int, loan_id: int | None, actor: Actor) -> Case: ...

    async def case(self, case_id: int) -> Case: ...

    async def cases_of(self, borrower_account_id: int) -> list[Case]: ...

    async def transition(
        self, case_id: int, target: CaseState, actor: Actor, details: dict[str, Any] | None = None
    ) -> Case: ...

    async def events(self, case_id: int) -> list[CaseEvent]: ...

    async def save_hardship(self, case_id: int, hardship: Hardship, actor: Actor) -> None: ...

    async def hardship(self, case_id: int) -> Hardship | None: ...

    async def save_finances(self, case_id: int, finances: Finances, actor: Actor) -> None: ...

    async def finances(self, case_id: int) -> Finances | None: ...


class Turn(Protocol):
    """One inbound message's unit of work. Everything done through it commits together, or not at all.

    The account is the sender's; every case operation acts as them (their role, their channel) and the
    store refuses what that role or ownership does not allow.
    """

    account: Account
    now: datetime

    async def conversation(self) -> Conversation: ...

    def save_conversation(self, conversation: Conversation) -> None: ...

    def send(self, message: Outbound) -> None:
        """Queue a message; it is sent only after this turn commits."""
        ...

    async def set_locale(self, locale: str) -> None: ...

    async def record_consent(self) -> None: ...

    async def find_loans(
        self, *, id_number: str | None = None, phone: str | None = None, loan_ref: str | None = None
    ) -> list[Loan]: ...

    async def loan(self, loan_id: int) -> Loan: ...

    async def lender(self, lender_id: int) -> Lender: ...

    async def open_case(self, loan_id: int) -> Case: ...

    async def case(self, case_id: int) -> Case: ...

    async def my_cases(self) -> list[Case]: ...

    async def transition(
        self, case_id: int, target: CaseState, details: dict[str, Any] | None = None
    ) -> Case: ...

    async def log(self, case_id: int, kind: str, details: dict[str, Any] | None = None) -> None:
        """Append an event to the case log without changing the case's state."""
        ...

    async def events(self, case_id: int) -> list[CaseEvent]: ...

    async def save_hardship(self, case_id: int, hardship: Hardship) -> None: ...

    async def hardship(self, case_id: int) -> Hardship | None: ...

    async def save_finances(self, case_id: int, finances: Finances) -> None: ...

    async def finances(self, case_id: int) -> Finances | None: ...

    async def add_evidence(self, case_id: int, purpose: str, file: FileRef) -> None: ...

    async def evidence(self, case_id: int) -> list[FileRef]: ...

    async def choose_plan(self, case_id: int, plan: dict[str, Any] | None) -> None: ...

    async def chosen_plan(self, case_id: int) -> dict[str, Any] | None: ...

    # Negotiation: offers, the agreement, written words, the blind bid

    async def offers(self, case_id: int) -> list[Offer]: ...

    async def pending_offer(self, case_id: int) -> Offer | None: ...

    async def make_offer(
        self,
        case_id: int,
        terms: dict[str, Any],
        deadline: datetime,
        *,
        settled: bool = False,
        proposer: Role | None = None,
    ) -> Offer:
        """Propose terms as the sender's side; a pending offer of the other side is thereby countered.

        ``settled`` records terms both sides accepted (a blind bid that overlapped); ``proposer`` lets a
        mediator put the borrower's chosen plan forward as the borrower's.
        """
        ...

    async def answer_offer(self, offer_id: int, accept: bool) -> Offer: ...

    async def expire_offer(self, offer_id: int) -> None: ...

    async def revive_offer(self, case_id: int, deadline: datetime) -> Offer | None:
        """A mediator extending a deadline: the latest offer, if it lapsed unanswered, is pending again."""
        ...

    async def set_deadline(self, case_id: int, deadline: datetime | None) -> None: ...

    async def agreement(self, case_id: int) -> Agreement | None: ...

    async def draft_agreement(self, case_id: int, offer: Offer, text: str) -> Agreement: ...

    async def confirm_agreement(self, case_id: int, version: int) -> Agreement:
        """Confirm exactly ``version``; raises :class:`~dialogs.errors.PermissionDenied` for any other."""
        ...

    async def schedule_instalments(self, case_id: int, due: list[tuple[date, Decimal]]) -> None: ...

    async def plan_reminders(self, case_id: int, policy: ReminderPolicy) -> int:
        """The reminder rows of the case's unpaid instalments that have none yet (written in this turn);
        how many instalments got them."""
        ...

    async def next_instalment(self, case_id: int) -> tuple[int, date, Decimal] | None:
        """The earliest instalment not yet paid in full: its number, due date and what is still due."""
        ...

    # Supervision: the running schedule and payments (storage.payments)

    async def instalments(self, case_id: int) -> list[Due]:
        """The schedule as it stands (a moved instalment at its new date), in number order."""
        ...

    async def payments(self, case_id: int) -> list[Payment]: ...

    async def payment(self, payment_id: int) -> Payment: ...

    async def report_payment(
        self, case_id: int, amount: Decimal, paid_on: date, receipt: FileRef | None
    ) -> Payment:
        """The borrower reports a payment on their running plan; it waits for the lender's staff."""
        ...

    async def confirm_payment(self, payment_id: int) -> Payment:
        """Lender staff confirm a reported payment; it is applied to the schedule at once."""
        ...

    async def dispute_payment(self, payment_id: int, reason: str) -> Payment: ...

    async def resolve_payment(self, payment_id: int, confirm: bool) -> Payment:
        """A mediator decides a disputed payment: confirmed (applied) or rejected."""
        ...

    async def move_instalment(self, case_id: int, number: int, to_date: date, moves_allowed: int) -> None:
        """The tolerance the rule granted: the borrower's, at most ``moves_allowed`` on the plan."""
        ...

    async def add_message(self, case_id: int, kind: MessageKind, text: str, to: tuple[Role, ...]) -> int: ...

    async def case_message(self, message_id: int) -> CaseMessage: ...

    async def messages(self, case_id: int) -> list[CaseMessage]: ...

    async def blind_bid(self, case_id: int) -> BlindBid | None: ...

    async def open_blind_bid(self, case_id: int) -> BlindBid: ...

    async def give_bound(self, case_id: int, bound: Decimal) -> tuple[Decimal, Decimal] | None:
        """Record the sender's private bound; once both are in, (borrower's, lender's) to decide it."""
        ...

    async def close_blind_bid(self, case_id: int, settled: bool) -> None: ...

    # Staff: invites, lists, who to tell, statistics

    async def lender_by_name(self, name: str) -> Lender:
        """The lender of that name, whatever the letters' case; ``NotFound`` when none (or several) match."""
        ...

    async def lender_names(self) -> list[str]: ...

    async def create_invite(self, lender_id: int, valid_for: timedelta) -> str: ...

    async def redeem_invite(self, code: str) -> Lender: ...

    async def review_queue(self) -> list[Case]: ...

    async def escalations(self) -> list[Case]: ...

    async def lender_cases(self) -> list[Case]: ...

    async def set_waiting(self, case_id: int, waiting_for: str | None) -> None: ...

    async def waiting_for(self, case_id: int) -> str | None: ...

    async def open_reports(self, case_id: int) -> list[dict[str, Any]]: ...

    async def lender_words_since(self, case_id: int, since: datetime) -> int: ...

    async def held_for_case(self, case_id: int) -> list[HeldMessage]:
        """What the conduct window holds for the case's borrower, not yet sent, oldest first.

        Mediators only. A mediator's case view lists these (template, when due, the words) each with a
        "cancel" button that calls :meth:`cancel_held`; a move to agreed or closed cancels them itself.
        (Unlike a count of the borrower's held rows, this reads each row and keeps this case's alone.)
        """
        ...

    async def cancel_held(self, message_id: int, reason: str = "mediator") -> HeldMessage:
        """Cancel one held message so it is never sent (mediators only); NotFound once sent or cancelled."""
        ...

    async def review_reports(self, case_id: int) -> int: ...

    async def borrower_of(self, case_id: int) -> Account: ...

    async def lender_staff(self, case_id: int) -> list[Account]: ...

    async def operators(self) -> list[Account]: ...

    async def stats(self) -> CaseStats: ...

    async def verification_failures(self, since: datetime) -> int: ...

    async def record_verification_failure(self) -> None: ...

    async def code_requests(
        self, phone: str, *, account_since: datetime, phone_since: datetime
    ) -> tuple[int, int]:
        """One-time codes asked for by this account since ``account_since``, and for ``phone`` (by anyone)
        since ``phone_since``; requests count whether or not the details matched a loan."""
        ...

    async def record_code_request(self, phone: str) -> None: ...

    async def report_harassment(self, case_id: int | None, details: dict[str, Any]) -> int: ...

    # Operator broadcasts (mediators only): who a segment reaches, creating one (serve sends it), progress

    async def broadcast_preview(self, segment: Segment, template: str | None = None) -> Preview: ...

    async def create_broadcast(self, segment: Segment, template: str) -> int: ...

    async def broadcast_progress(self, broadcast_id: int) -> Progress: ...

    # The mediator's desk: requests for a person, report outcomes, any case, lender staff

    async def ask_for_help(self, case_id: int | None, reason: str, details: dict[str, Any]) -> int:
        """The sender asks to talk to a person (about ``case_id``, or none); open until handled."""
        ...

    async def help_requests(self, case_id: int | None = None) -> list[dict[str, Any]]:
        """Open requests on a case, or (``None``) of people without a case; a mediator's."""
        ...

    async def help_request(self, request_id: int) -> dict[str, Any]: ...

    async def handle_help(self, request_id: int) -> Account:
        """Mark a request handled; returns who asked."""
        ...

    async def write_to(self, account_id: int) -> Account:
        """Someone with an open request, for a mediator to answer; refused for anyone else."""
        ...

    async def decide_report(self, report_id: int, outcome: str, note: str) -> int:
        """Record a harassment report's outcome (upheld, not_upheld, passed_on) and note; returns its case."""
        ...

    async def deadline_of(self, case_id: int) -> datetime | None: ...

    async def loan_cases(self, loan_id: int) -> list[Case]:
        """Every case on a loan, oldest first (a mediator's)."""
        ...

    async def find_cases(self, state: CaseState | None, lender_id: int | None) -> list[Case]: ...

    async def staff_of(self, lender_id: int) -> list[Account]: ...

    async def revoke_staff(self, account_id: int) -> Account:
        """Take away an account's lender-staff role (a mediator's); returns the account as it was."""
        ...

    async def personal_data(self) -> dict[str, Any]:
        """Everything stored about this account, decrypted for them alone."""
        ...

    async def staff_personal_data(self) -> dict[str, Any]:
        """Lender staff and mediators: their own account and what they wrote and did, never borrowers'
        data (storage.staff_data); refused to anyone else."""
        ...

    async def erase_personal_data(self, keep_failures_since: datetime) -> Erasure:
        """Erase what the law lets us; failures since ``keep_failures_since`` stay (they hold a lock-out)."""
        ...

    # Reminders and the collection-conduct cap (issue 14: scheduling, reminders, /quiet, the digest)

    async def reminder_due(self, reminder_id: int) -> ReminderDue | None:
        """A reminder row as it comes due, with its instalment's facts now; ``None`` when it is gone."""
        ...

    async def finish_reminder(self, reminder_id: int, outcome: str) -> None:
        """Mark it sent (``outcome`` "sent") or cancelled for ``outcome`` (paid, moved, quiet...)."""
        ...

    async def defer_reminder(self, reminder_id: int, until: datetime) -> None: ...

    async def collection_messages(self, case_id: int, start: datetime, end: datetime) -> int:
        """Collection messages (dialogs.collection) to the case's borrower delivered in ``[start, end)``."""
        ...

    async def set_quiet(self, quiet: bool) -> datetime | None:
        """Opt the sender out of non-essential messages (``/quiet``) or back in; since when they are out."""
        ...

    async def lender_day(self, lender_id: int, day: date, start: datetime, end: datetime) -> Digest:
        """A lender's local ``day`` (``[start, end)`` in UTC) for the daily digest (the system's turn)."""
        ...

    async def digest_staff(self, lender_id: int) -> list[Account]:
        """Who reads a lender's digest: its staff accounts (the system's turn only)."""
        ...


class Batch(Protocol):
    """Turns that share one transaction (group commit); each turn is isolated by a savepoint."""

    async def prepare(self, inbounds: Sequence[Inbound]) -> None:
        """Read ahead what the turns of these messages will need (an optimisation; optional to call)."""
        ...

    def turn(self, inbound: Inbound) -> AbstractAsyncContextManager[Turn | None]:
        """The sender's turn, or ``None`` when this inbound was handled before (a redelivery)."""
        ...

    def system_turn(self, account_id: int, key: str) -> AbstractAsyncContextManager[Turn | None]:
        """A turn the system starts for an account (a reminder, an expiry); ``key`` makes it happen once."""
        ...

    @property
    def queued(self) -> Sequence[Queued]:
        """What the committed turns queued, for delivery; valid once the batch has committed."""
        ...


class TurnStore(Protocol):
    def batch(self) -> AbstractAsyncContextManager[Batch]:
        """Open a transaction for a batch of turns; it commits when the block ends."""
        ...

    async def stale_drafts(self, idle_since: datetime, limit: int) -> list[int]:
        """Accounts whose application draft has been idle since ``idle_since`` and were not reminded."""
        ...

    async def expired_drafts(self, created_before: datetime, limit: int) -> list[tuple[int, int]]:
        """(account, case) of drafts opened before ``created_before`` that are still drafts."""
        ...

    async def overdue_cases(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(borrower account, case) of cases waiting on someone whose deadline has passed."""
        ...

    async def supervised_cases(self, due_before: date, limit: int) -> list[tuple[int, int]]:
        """(borrower account, case) of running plans with an unpaid instalment due before ``due_before``."""
        ...


class Documents(Protocol):
    """Renders a document (an agreement) to plain text from a template, in one locale and time zone."""

    def document(self, template: str, context: dict[str, Any], locale: str, time_zone: str) -> str: ...


class CodeSender(Protocol):
    """Sends a one-time verification code to a phone (a log in development, an SMS provider in production).

    It may return before the code leaves: in production the SMS goes out after the turn's reply, so the reply
    takes as long whether or not the details matched a loan. A send that fails then reaches the person
    through a system turn for ``account_id`` (:func:`dialogs.unsent_codes.code_not_sent`).
    """

    async def send_code(self, phone: str, code: str, *, account_id: int) -> None: ...
