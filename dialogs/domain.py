"""The core's own small types: who acts, on which channel, and the records the store hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dialogs.lifecycle import CaseState


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

    @property
    def outstanding_total(self) -> Decimal:
        return self.outstanding_principal + self.outstanding_interest + self.penalty + self.fees


@dataclass(frozen=True, slots=True)
class Loan:
    """A stored loan; personal data decrypted for whoever is entitled to it."""

    id: int
    lender_id: int
    row: LoanRow


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
