"""Sample data for tests: valid resident ID numbers and loan-book rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dialogs.domain import LoanRow
from dialogs.rules.identity import id_check_char


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
