"""Reading a loan book: every problem found, with its line number, or every loan parsed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.errors import LoanBookRejected
from dialogs.loanbook import COLUMNS, parse_loan_book
from tests.samples import resident_id

HEADER = ",".join(COLUMNS)
GOOD = f"L-1,张三,{resident_id()},13812345678,20000,0.24,2024-03-15,24,14321.55,1020.40,380,120,45"


def book(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def problems(text: str) -> list[str]:
    with pytest.raises(LoanBookRejected) as caught:
        parse_loan_book(text, today=date(2026, 11, 28))
    return [str(p) for p in caught.value.problems]


def test_a_good_book_parses_exactly() -> None:
    (row,) = parse_loan_book("\ufeff" + book(GOOD, ""), today=date(2026, 11, 28))
    assert row.loan_ref == "L-1" and row.phone == "+8613812345678"
    assert row.outstanding_principal == Decimal("14321.55") and row.penalty == Decimal("380.00")
    assert row.outstanding_total == Decimal("15841.95")
    assert (row.start_date, row.term_months, row.overdue_days) == (date(2024, 3, 15), 24, 45)


def test_every_problem_is_reported_with_its_line() -> None:
    bad_id = resident_id()[:-1] + ("0" if resident_id()[-1] != "0" else "1")
    found = problems(
        book(
            GOOD,
            GOOD.replace(resident_id(), bad_id).replace("L-1", "L-2"),
            GOOD.replace("20000", "twenty").replace("L-1", "L-3"),
            GOOD.replace("380", "-5").replace("L-1", "L-4"),
            GOOD,
        )
    )
    assert found == [
        "line 3: id_number: the last character of this ID number does not match the others (check digit)",
        "line 4: principal: 'twenty' is not an amount in yuan",
        "line 5: penalty: negative amount -5",
        "line 6: loan_ref 'L-1' already on line 2",
    ]


def test_header_problems_are_reported_on_line_one() -> None:
    assert problems(book(GOOD, header=HEADER + ",branch")) == ["line 1: unknown column 'branch'"]
    assert problems(book(header=HEADER.replace(",fees", ""))) == ["line 1: missing column 'fees'"]
    assert problems("") == [f"line 1: the file is empty; it needs a header row: {HEADER}"]
    assert problems(book()) == ["line 2: the file has a header but no loans"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("2024-03-15", "15/03/2024"), "start_date: '15/03/2024' is not a date (YYYY-MM-DD)"),
        (("2024-03-15", "2027-01-01"), "start_date: 2027-01-01 is in the future"),
        ((",24,", ",0,"), "term_months: '0' is not a whole number from 1 to 600"),
        ((",45", ",4.5"), "overdue_days: '4.5' is not a whole number from 0 to 36500"),
        ((",0.24,", ",abc,"), "annual_rate: 'abc' is not a rate (a decimal fraction such as 0.18)"),
        (
            (",1020.40,", ",1020.401,"),
            "outstanding_interest: 1020.401 is not an amount in yuan with at most 2 decimals",
        ),
        ((",13812345678,", ",12,"), "phone: '12' is not a valid phone number"),
        (("L-1,张三", ",张三"), "loan_ref: empty"),
        ((",14321.55,", ",24321.55,"), "outstanding_principal is larger than the principal lent"),
    ],
)
def test_each_kind_of_bad_cell_is_named(change: tuple[str, str], message: str) -> None:
    assert problems(book(GOOD.replace(*change, 1))) == [f"line 2: {message}"]


def test_a_row_with_the_wrong_number_of_fields() -> None:
    assert problems(book(GOOD + ",extra")) == ["line 2: 14 fields where the header has 13"]


@given(st.text(max_size=400))
def test_arbitrary_text_is_parsed_or_rejected_with_problems_never_a_crash(text: str) -> None:
    try:
        rows = parse_loan_book(text, today=date(2026, 11, 28))
    except LoanBookRejected as rejected:
        assert rejected.problems and all(p.line >= 1 for p in rejected.problems)
    else:
        assert rows
