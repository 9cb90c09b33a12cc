"""Reading a lender's loan book (DESIGN §4): CSV, UTF-8, a header row; every problem found, by line."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from dialogs.domain import LoanRow
from dialogs.errors import DomainError, InvalidInput, LoanBookRejected, Problem
from dialogs.rules.identity import normalise_phone, validate_resident_id
from dialogs.rules.interest import LenderKind
from dialogs.rules.money import FEN

COLUMNS = (
    "loan_ref",
    "borrower_name",
    "id_number",
    "phone",
    "principal",
    "annual_rate",
    "start_date",
    "term_months",
    "outstanding_principal",
    "outstanding_interest",
    "penalty",
    "fees",
    "overdue_days",
)
# A platform lending for several funders names each loan's funder kind (private, microloan, bank…);
# empty, or no column, means the importing lender's own kind.
OPTIONAL = ("lender_kind",)
MAX_ROWS = 200_000
MAX_TEXT = 200
MAX_CELL = 1000  # longer cells are refused without being parsed or quoted back
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: Save As, 'CSV UTF-8') and import it again"
MAX_AMOUNT = Decimal("100000000")  # a hundred million yuan: far above any consumer loan


def decode_loan_book(data: bytes) -> str:
    """The file's text. Only UTF-8 (with or without Excel's byte-order mark) is read: anything else is
    refused at the line where it stops being UTF-8, with what to do, rather than imported as mojibake."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        guess = " (it looks like GBK, as Excel saves Chinese text by default)" if _is_gbk(data) else ""
        problem = Problem(line, f"the file is not UTF-8{guess}: {SAVE_AS_UTF8}")
        raise LoanBookRejected([problem]) from None


def _is_gbk(data: bytes) -> bool:
    try:
        data.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


def parse_loan_book(text: str, *, today: date | None = None) -> list[LoanRow]:
    """Parse and check a whole loan book; raise :class:`LoanBookRejected` listing every problem."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise LoanBookRejected([Problem(1, _csv_problem(error))]) from None
    if header is None:
        raise LoanBookRejected([Problem(1, "the file is empty; it needs a header row: " + ",".join(COLUMNS))])
    problems = _header_problems([h.strip() for h in header])
    if problems:
        raise LoanBookRejected(problems)
    columns = [h.strip() for h in header]
    rows, problems = _parse_rows(_numbered(reader), columns, today)
    if not rows and not problems:
        problems.append(Problem(2, "the file has a header but no loans"))
    if problems:
        raise LoanBookRejected(problems)
    return rows


def _numbered(reader: Any) -> Iterator[tuple[int, list[str] | str]]:
    """Each record with the line it starts on, as an editor numbers lines (a quoted cell may span lines:
    csv's ``line_num`` is where the record ends); a record csv cannot read ends the file, as a problem."""
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield start, _csv_problem(error)
            return
        yield start, record
        start = reader.line_num + 1


def _csv_problem(error: csv.Error) -> str:
    reason = str(error)
    if "field limit" in reason:
        return (
            f'a cell longer than {csv.field_size_limit()} characters, usually a quote (") that is never'
            " closed: check the quotes on this line"
        )
    if "NUL" in reason:
        return f"a NUL character: the file is damaged or not a text file; {SAVE_AS_UTF8}"
    return f"not readable as CSV ({reason})"


def _header_problems(header: list[str]) -> list[Problem]:
    problems = [Problem(1, f"unknown column {name!r}") for name in header if name not in COLUMNS + OPTIONAL]
    problems += [Problem(1, f"missing column {name!r}") for name in COLUMNS if name not in header]
    problems += [
        Problem(1, f"column {name!r} appears twice") for name in set(header) if header.count(name) > 1
    ]
    return problems


def _parse_rows(
    records: Iterator[tuple[int, list[str] | str]], columns: list[str], today: date | None
) -> tuple[list[LoanRow], list[Problem]]:
    rows: list[LoanRow] = []
    problems: list[Problem] = []
    first_line_of: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, str):
            problems.append(Problem(line, record))
            break
        if not any(cell.strip() for cell in record):
            continue  # blank lines, often at the end of a file, carry no loan
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(Problem(line, f"the file has more than {MAX_ROWS} loans; split it"))
            break
        if len(record) != len(columns):
            problems.append(Problem(line, f"{len(record)} fields where the header has {len(columns)}"))
            continue
        row, row_problems = _parse_row(dict(zip(columns, record, strict=True)), today)
        problems += [Problem(line, message) for message in row_problems]
        if row is None:
            continue
        if row.loan_ref in first_line_of:
            problems.append(
                Problem(line, f"loan_ref {row.loan_ref!r} already on line {first_line_of[row.loan_ref]}")
            )
            continue
        first_line_of[row.loan_ref] = line
        rows.append(row)
    return rows, problems


def _parse_row(cells: dict[str, str], today: date | None) -> tuple[LoanRow | None, list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in (*COLUMNS, *(column for column in OPTIONAL if column in cells)):
        if len(cells[name]) > MAX_CELL:
            problems.append(f"{name}: longer than {MAX_CELL} characters")
            continue
        try:
            values[name] = _PARSERS[name](cells[name].strip(), today)
        except DomainError as error:
            problems.append(f"{name}: {error}")
    if problems:
        return None, problems
    row = LoanRow(**values)
    if row.outstanding_principal > row.principal:
        return None, ["outstanding_principal is larger than the principal lent"]
    return row, []


def _text(value: str, _today: date | None) -> str:
    if not value:
        raise InvalidInput("empty")
    if "\n" in value or "\r" in value:
        raise InvalidInput(
            "has a line break inside it (a cell in quotes spanning lines): keep it on one line"
        )
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise InvalidInput("has a control character (such as NUL) in it: retype it")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"longer than {MAX_TEXT} characters")
    return value


def _id_number(value: str, today: date | None) -> str:
    return validate_resident_id(value, today=today).number


def _phone(value: str, _today: date | None) -> str:
    return normalise_phone(value)


def _amount(value: str, _today: date | None) -> Decimal:
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"{value!r} is not an amount in yuan") from None
    if not amount.is_finite():
        raise InvalidInput(f"{value!r} is not an amount in yuan")
    if amount < 0:
        raise InvalidInput(f"negative amount {value}")
    if amount != amount.quantize(FEN) or amount > MAX_AMOUNT:
        raise InvalidInput(f"{value} is not an amount in yuan with at most 2 decimals")
    return amount.quantize(FEN)


def _rate(value: str, _today: date | None) -> Decimal:
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"{value!r} is not a rate (a decimal fraction such as 0.18)") from None
    if not rate.is_finite() or not 0 <= rate < 10:
        raise InvalidInput(f"{value!r} is not a rate (a decimal fraction such as 0.18)")
    return rate


def _start_date(value: str, today: date | None) -> date:
    try:
        start = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if start > (today or date.today()):
        raise InvalidInput(f"{value} is in the future")
    return start


def _lender_kind(value: str, _today: date | None) -> LenderKind | None:
    if not value:
        return None
    try:
        return LenderKind(value.lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in LenderKind)
        raise InvalidInput(f"{value!r} is not a lender kind (one of {kinds}, or empty)") from None


def _count(low: int, high: int) -> Callable[[str, date | None], int]:
    def parse(value: str, _today: date | None) -> int:
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise InvalidInput(f"{value!r} is not a whole number from {low} to {high}")
        return int(value)

    return parse


_PARSERS: dict[str, Callable[[str, date | None], Any]] = {
    "loan_ref": _text,
    "borrower_name": _text,
    "id_number": _id_number,
    "phone": _phone,
    "principal": _amount,
    "annual_rate": _rate,
    "start_date": _start_date,
    "term_months": _count(1, 600),
    "outstanding_principal": _amount,
    "outstanding_interest": _amount,
    "penalty": _amount,
    "fees": _amount,
    "overdue_days": _count(0, 36_500),
    "lender_kind": _lender_kind,
}
