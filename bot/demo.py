"""A demo lender and loan book, so a newcomer can go through the whole borrower flow at once."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rendering import Renderer
from dialogs.errors import NotFound
from dialogs.loanbook import parse_loan_book
from dialogs.locales import DEFAULT_LOCALE
from storage.store import SqlStore

LENDER = "Demo Lender"
BOOK = """\
loan_ref,borrower_name,id_number,phone,principal,annual_rate,start_date,term_months,outstanding_principal,outstanding_interest,penalty,fees,overdue_days
DEMO-0001,张伟,110105199003071239,13812345678,20000.00,0.2400,2024-03-15,24,14321.55,1020.40,380.00,120.00,45
DEMO-0002,王芳,310104198511022245,13987654321,8000.00,0.3600,2023-11-02,12,5210.00,640.20,900.00,300.00,95
"""


@dataclass(frozen=True, slots=True)
class DemoBorrower:
    loan_ref: str
    name: str
    id_number: str
    phone: str


DEMO_BORROWER = DemoBorrower("DEMO-0001", "张伟", "110105199003071239", "13812345678")


async def seed(store: SqlStore) -> DemoBorrower:
    """Add the demo lender and its loan book (again, harmlessly, if they exist)."""
    try:
        await store.lender_by_name(LENDER)
    except NotFound:
        await store.add_lender(LENDER)
    await store.import_loan_book(LENDER, parse_loan_book(BOOK))
    return DEMO_BORROWER


def words(renderer: Renderer, locale: str | None, name: str) -> str:
    """What the terminal says about the demo (``demo/…`` templates), in the terminal's language."""
    return renderer.document(f"demo/{name}", {}, locale or DEFAULT_LOCALE, "Asia/Shanghai")


def banner(renderer: Renderer, locale: str | None, borrower: DemoBorrower = DEMO_BORROWER) -> str:
    """The details to type as the demo borrower, once the demo loan book is loaded."""
    context = {
        "lender": LENDER,
        "ref": borrower.loan_ref,
        "name": borrower.name,
        "id_number": borrower.id_number,
        "phone": borrower.phone,
    }
    return renderer.document("demo/loaded", context, locale or DEFAULT_LOCALE, "Asia/Shanghai")
