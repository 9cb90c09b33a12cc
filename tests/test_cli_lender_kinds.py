"""Lender kinds from the command line: `lender add --kind` and the loan book's optional lender_kind column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dialogs.loanbook import COLUMNS
from tests.test_cli import GOOD, run, workdir

__all__ = ["workdir"]  # the fixture, used by name


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def test_a_lender_is_added_with_its_kind(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    code, out, _ = run(capsys, "lender", "add", "Small Loans Co", "--kind", "microloan")
    assert (code, out) == (0, "lender 'Small Loans Co' added (id 1), a microloan lender\n")
    assert run(capsys, "lender", "add", "Neighbour Wang")[1].endswith("a private lender\n")
    database = workdir / "loanbridge.db"
    assert _rows(database, "SELECT name, kind FROM lenders ORDER BY id") == [
        ("Small Loans Co", "microloan"),
        ("Neighbour Wang", "private"),
    ]
    with pytest.raises(SystemExit) as refused:
        run(capsys, "lender", "add", "Pawn Shop", "--kind", "pawnshop")
    assert refused.value.code == 2 and "invalid choice: 'pawnshop'" in capsys.readouterr().err


def test_a_platforms_loan_book_names_each_loans_funder(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "lender", "add", "Platform")[0] == 0
    book = workdir / "book.csv"
    book.write_text(
        "\n".join(
            [
                ",".join((*COLUMNS, "lender_kind")),
                GOOD + ",consumer_finance",
                GOOD.replace("L-1", "L-2") + ",",
                GOOD.replace("L-1", "L-3") + ",BANK",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "loans", "import", str(book), "--lender", "Platform")
    assert (code, out) == (0, "imported 3 loans for 'Platform': 3 new, 0 updated\n")
    assert _rows(workdir / "loanbridge.db", "SELECT loan_ref, lender_kind FROM loans ORDER BY loan_ref") == [
        ("L-1", "consumer_finance"),
        ("L-2", None),  # the platform's own kind applies
        ("L-3", "bank"),
    ]
    book.write_text(",".join((*COLUMNS, "lender_kind")) + "\n" + GOOD + ",pawnshop\n", encoding="utf-8")
    code, _, err = run(capsys, "loans", "import", str(book), "--lender", "Platform")
    assert code == 1 and "line 2: lender_kind: 'pawnshop' is not a lender kind" in err
