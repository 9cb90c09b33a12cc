"""The command line as an administrator uses it, on a real SQLite file in a scratch directory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from dialogs.loanbook import COLUMNS
from tests.samples import resident_id

GOOD = f"L-1,张三,{resident_id()},13812345678,20000,0.24,2024-03-15,24,14321.55,1020.40,380,120,45"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("LOANBRIDGE_DATABASE_URL", "LOANBRIDGE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_book(path: Path, *lines: str) -> str:
    path.write_text("\n".join([",".join(COLUMNS), *lines]) + "\n", encoding="utf-8")
    return str(path)


def loans_in(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT loan_ref, outstanding_principal FROM loans ORDER BY loan_ref"
        ).fetchall()


def test_upgrade_import_and_reimport(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    assert (workdir / "loanbridge.db").exists()
    added = run(capsys, "lender", "add", "Quick Cash Ltd")[1]
    assert added == "lender 'Quick Cash Ltd' added (id 1), a private lender\n"

    book = write_book(workdir / "book.csv", GOOD, GOOD.replace("L-1", "L-2"))
    code, out, _ = run(capsys, "loans", "import", book, "--lender", "Quick Cash Ltd")
    assert (code, out) == (0, "imported 2 loans for 'Quick Cash Ltd': 2 new, 0 updated\n")

    book = write_book(workdir / "book.csv", GOOD.replace("14321.55", "13000.00"), GOOD.replace("L-1", "L-3"))
    code, out, _ = run(capsys, "loans", "import", book, "--lender", "Quick Cash Ltd")
    assert (code, out) == (0, "imported 2 loans for 'Quick Cash Ltd': 1 new, 1 updated\n")
    assert loans_in(workdir / "loanbridge.db") == [
        ("L-1", "13000.00"),
        ("L-2", "14321.55"),
        ("L-3", "14321.55"),
    ]


def test_a_bad_book_changes_nothing_and_lists_every_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "db", "upgrade")
    run(capsys, "lender", "add", "Quick Cash Ltd")
    book = write_book(workdir / "bad.csv", GOOD, GOOD.replace("L-1", "L-2").replace("0.24", "x"), GOOD)
    code, out, err = run(capsys, "loans", "import", book, "--lender", "Quick Cash Ltd")
    assert (code, out) == (1, "")
    assert "line 3: annual_rate:" in err and "line 4: loan_ref 'L-1' already on line 2" in err
    assert loans_in(workdir / "loanbridge.db") == []


def test_unknown_lender_is_a_clear_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    code, _, err = run(capsys, "loans", "import", write_book(workdir / "b.csv", GOOD), "--lender", "Nobody")
    assert code == 1 and "no lender named 'Nobody'" in err


def test_operator_role_is_granted_by_the_cli(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    code, out, _ = run(capsys, "operator", "add", "--channel", "telegram", "--user", "42")
    assert (code, out) == (0, "telegram user '42' is now an operator (account 1)\n")
    with sqlite3.connect(workdir / "loanbridge.db") as connection:
        assert connection.execute("SELECT role FROM accounts").fetchall() == [("operator",)]


def test_a_database_not_yet_set_up_says_what_to_run(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "lender", "add", "X")
    assert code == 1 and "loanbridge db upgrade" in err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOANBRIDGE_TIMEZONE", "Mars/Olympus", "LOANBRIDGE_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("LOANBRIDGE_DATABASE_URL", "mysql://x/y", "LOANBRIDGE_DATABASE_URL: unsupported database 'mysql'"),
        (
            "LOANBRIDGE_TELEGRAM_LIB",
            "pyrogram",
            "LOANBRIDGE_TELEGRAM_LIB: Input should be 'ptb' or 'aiogram'",
        ),
        ("LOANBRIDGE_WECHAT_LISTEN", "8080", "LOANBRIDGE_WECHAT_LISTEN: expected host:port"),
        ("LOANBRIDGE_LPR_HISTORY", "yesterday:3%", "LOANBRIDGE_LPR_HISTORY:"),
        ("LOANBRIDGE_SECRET_KEY", "short", "LOANBRIDGE_SECRET_KEY: must hold at least 32 bytes"),
    ],
)
def test_a_bad_setting_stops_with_one_line_naming_it(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "db", "upgrade")
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_settings_come_from_a_dot_env_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / ".env").write_text("LOANBRIDGE_DATABASE_URL=sqlite:///other.db\n", encoding="utf-8")
    assert run(capsys, "db", "upgrade")[0] == 0
    assert (workdir / "other.db").exists() and not (workdir / "loanbridge.db").exists()


def test_lender_invite_issues_a_code_that_works_once(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "lender", "add", "Quick Cash Ltd")[0] == 0
    code, out, _ = run(capsys, "lender", "invite", "Quick Cash Ltd", "--hours", "24")
    assert code == 0 and "valid once, for 24 hours" in out
    invite = out.split("\n")[0].rsplit(" ", 1)[1]
    database = workdir / "loanbridge.db"
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT code_hash, expires_at FROM invites").fetchall()
    assert len(stored) == 1 and invite not in str(stored)  # only a keyed hash of the code is kept
    code, _, err = run(capsys, "lender", "invite", "Nobody Ltd")
    assert code == 1 and "Nobody Ltd" in err
