"""The core's own small types: who acts, on which channel, and the records the store hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dialogs.lifecycle import CaseState
from dialogs.rules.interest import LenderKind


class Role(StrEnum):
    """What an account may do; granted by an operator or the CLI, never claimed."""

    BORROWER = "borrower"
    LENDER = "lender"
    OPERATOR = "operator"


class Channel(StrEnum):
    TERMINAL = "terminal"
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    CLI = "cli"  # administrative commands run by a person at the server
    SYSTEM = "system"  # scheduled work: deadlines, reminders


class HardshipReason(StrEnum):
    JOB_LOSS = "job_loss"
    ILLNESS = "illness"
    BUSINESS_FAILURE = "business_failure"
    FAMILY = "family"
    INCOME_CUT = "income_cut"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Hardship:
    reason: HardshipReason
    lasting: bool
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused a change: an account (or none, for the system), in which role, through which channel."""

    role: Role | None
    channel: Channel
    account_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(role=None, channel=Channel.SYSTEM)

    @classmethod
    def cli(cls) -> Actor:
        return cls(role=Role.OPERATOR, channel=Channel.CLI)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    channel: Channel
    channel_user_id: str
    role: Role
    locale: str
    time_zone: str
    reachable: bool
    lender_id: int | None = None
    consented_at: datetime | None = None  # explicit consent to sensitive personal information


@dataclass(frozen=True, slots=True)
class Lender:
    id: int
    name: str
    compliance_contact: str | None = None
    kind: LenderKind = LenderKind.PRIVATE  # which interest rule binds it (DESIGN §4)


@dataclass(frozen=True, slots=True)
class LoanRow:
    """One loan of a lender's loan book, as imported (DESIGN §4), personal data in plaintext.

    ``id_number`` and ``phone`` are canonical (as :func:`dialogs.loanbook.parse_loan_book` gives them):
    lookups hash the canonical form.
    """

    loan_ref: str
    borrower_name: str
    id_number: str
    phone: str
    principal: Decimal
    annual_rate: Decimal
    start_date: date
    term_months: int
    outstanding_principal: Decimal
    outstanding_interest: Decimal
    penalty: Decimal
    fees: Decimal
    overdue_days: int
    # Who funded this loan, when not the lender itself: a platform lends for several (optional column).
    lender_kind: LenderKind | None = None

    @property
    def outstanding_total(self) -> Decimal:
        return self.outstanding_principal + self.outstanding_interest + self.penalty + self.fees


@dataclass(frozen=True, slots=True)
class Loan:
    """A stored loan; personal data decrypted for whoever is entitled to it."""

    id: int
    lender_id: int
    row: LoanRow
    lender_kind: LenderKind = LenderKind.PRIVATE  # the loan's own kind, else its lender's: the one that binds


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    borrower_account_id: int
    loan_id: int | None
    lender_id: int | None
    state: CaseState
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One line of a case's append-only log."""

    id: int
    case_id: int
    at: datetime
    kind: str
    actor_role: Role | None
    actor_channel: Channel
    actor_account_id: int | None
    from_state: CaseState | None
    to_state: CaseState | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file someone sent (evidence): where the channel keeps it and the hash that pins its content."""

    storage_ref: str
    sha256: str
    size_bytes: int
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class Erasure:
    """What a deletion request removed, and what the law obliges us to keep (and why)."""

    erased: tuple[str, ...]
    kept_for_agreement: tuple[int, ...]  # cases whose agreement still needs the borrower's details
    lenders_loans: tuple[str, ...] = ()  # loan refs: the lender's own records, not ours to erase
    failed_verifications: bool = False  # recent failures kept so a lock-out against guessing still holds


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COUNTERED = "countered"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Offer:
    """Full terms proposed on a case: a plan record (kind, months, amounts…), who proposed, by when."""

    id: int
    case_id: int
    round: int
    proposer: Role
    terms: dict[str, Any]
    status: OfferStatus
    deadline_at: datetime | None
    created_at: datetime
    accepted_by: tuple[Role, ...] = ()
    decided_at: datetime | None = None  # when it was accepted, rejected, countered or expired

    @property
    def answerers(self) -> frozenset[Role]:
        """Who must accept: the other side, or both sides for a mediator's proposal."""
        if self.proposer is Role.OPERATOR:
            return frozenset({Role.BORROWER, Role.LENDER})
        return frozenset({Role.LENDER if self.proposer is Role.BORROWER else Role.BORROWER})


@dataclass(frozen=True, slots=True)
class Agreement:
    """The final terms both sides confirm; ``version`` changes whenever the terms do."""

    case_id: int
    offer_id: int
    version: int
    terms: dict[str, Any]
    text: str
    content_hash: str
    borrower_confirmed_at: datetime | None
    lender_confirmed_at: datetime | None
    created_at: datetime
    # The platform's signature block once both confirmations are in the case log (storage.agreement_log).
    signed_block: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.borrower_confirmed_at is not None and self.lender_confirmed_at is not None


class MessageKind(StrEnum):
    RELAY = "relay"  # one party's own words to the other
    MEDIATOR = "mediator"  # the operator, labelled as the mediator
    INFO_REQUEST = "info_request"  # the reviewer asks the borrower for more
    INFO_REPLY = "info_reply"
    REASON = "reason"  # why an application was rejected or a case closed


@dataclass(frozen=True, slots=True)
class CaseMessage:
    id: int
    case_id: int
    kind: MessageKind
    sender_role: Role | None
    to: tuple[Role, ...]
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BlindBid:
    """A blind-bid round as anyone may see it: who has given a bound, never the bound itself."""

    id: int
    case_id: int
    proposer: Role
    status: str  # open, then no_overlap or overlap (then settled, once its offer is made)
    borrower_given: bool
    lender_given: bool


@dataclass(frozen=True, slots=True)
class CaseStats:
    by_state: dict[str, int]
    median_first_answer_hours: float | None
    median_agreement_hours: float | None
    agreement_rate: float | None  # agreed among cases whose negotiation ended
    dead_letters: int = 0  # inbound messages given up on (see storage.dead_letters)
    # Messages a channel may not deliver until their person writes again (WeChat's 48-hour window).
    waiting_messages: int = 0
    # Running plans and reach, each a count: payments_reported (all ever reported), payments_waiting,
    # payments_confirmed, payments_disputed (ever disputed), payments_rejected, moves, breaches, completions,
    # broadcasts, broadcasts_done
    activity: dict[str, int] = field(default_factory=dict)


class PaymentStatus(StrEnum):
    """A reported payment: waiting for the lender, confirmed, or disputed until a mediator decides."""

    REPORTED = "reported"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    case_id: int
    amount: Decimal
    paid_on: date
    status: PaymentStatus
    reported_at: datetime
    receipt: bool  # a receipt file came with it
    dispute_reason: str | None = None
    decided_at: datetime | None = None  # confirmed, or resolved by a mediator
