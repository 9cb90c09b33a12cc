"""Building blocks for store tests: a lender with a loan book, and the people around a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dialogs.domain import Account, Actor, Channel, LoanRow, Role
from dialogs.rules.identity import id_check_char
from storage.store import SqlStore


def resident_id(first17: str = "11010519900307123") -> str:
    return first17 + id_check_char(first17)


def loan_row(loan_ref: str = "L-0001", **changes: object) -> LoanRow:
    values: dict[str, object] = {
        "loan_ref": loan_ref,
        "borrower_name": "张三丰",
        "id_number": resident_id(),
        "phone": "+8613812345678",
        "principal": Decimal("20000.00"),
        "annual_rate": Decimal("0.2400"),
        "start_date": date(2024, 3, 15),
        "term_months": 24,
        "outstanding_principal": Decimal("14321.55"),
        "outstanding_interest": Decimal("1020.40"),
        "penalty": Decimal("380.00"),
        "fees": Decimal("120.00"),
        "overdue_days": 45,
    }
    values.update(changes)
    return LoanRow(**values)  # type: ignore[arg-type]


@dataclass
class People:
    borrower: Account
    staff: Account
    operator: Account
    other_borrower: Account
    other_staff: Account
    loan_id: int

    def actor(self, who: str) -> Actor:
        if who == "system":
            return Actor.system()
        account: Account = getattr(self, who)
        return Actor(role=account.role, channel=account.channel, account_id=account.id)


async def people(store: SqlStore) -> People:
    await store.add_lender("Quick Cash Ltd")
    await store.add_lender("Other Lender")
    await store.import_loan_book("Quick Cash Ltd", [loan_row()])
    (loan,) = await store.find_loans(loan_ref="L-0001")
    return People(
        borrower=await store.ensure_account(Channel.TELEGRAM, "1001"),
        staff=await store.grant_role(Channel.TELEGRAM, "2001", Role.LENDER, lender_name="Quick Cash Ltd"),
        operator=await store.grant_role(Channel.TERMINAL, "op", Role.OPERATOR),
        other_borrower=await store.ensure_account(Channel.WECHAT, "o-other"),
        other_staff=await store.grant_role(Channel.TELEGRAM, "2002", Role.LENDER, lender_name="Other Lender"),
        loan_id=loan.id,
    )
