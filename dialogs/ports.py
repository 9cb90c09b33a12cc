"""Ports: what the core needs from outside, as small Protocols that ``storage`` and ``bot`` implement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from dialogs.domain import (
    Account,
    Actor,
    Case,
    CaseEvent,
    Channel,
    Hardship,
    ImportSummary,
    Lender,
    Loan,
    LoanRow,
    Role,
)
from dialogs.lifecycle import CaseState
from dialogs.rules.affordability import Finances


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class CaseStore(Protocol):
    """The shared case store. Each call is one unit of work: it commits whole or changes nothing."""

    async def add_lender(self, name: str, *, compliance_contact: str | None = None) -> Lender: ...

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
