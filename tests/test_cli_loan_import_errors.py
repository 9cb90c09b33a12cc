"""`loanbridge loans import` on files people really send: each fault named with its line and what to do,
never a codec or csv message, never a traceback, and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.loanbook import COLUMNS
from tests.test_cli import GOOD, loans_in, run

HEADER = ",".join(COLUMNS)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("LOANBRIDGE_DATABASE_URL", "LOANBRIDGE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _import(capsys: pytest.CaptureFixture[str], workdir: Path, content: bytes) -> tuple[int, str]:
    run(capsys, "db", "upgrade")
    run(capsys, "lender", "add", "Quick Cash Ltd")
    book = workdir / "book.csv"
    book.write_bytes(content)
    code, out, err = run(capsys, "loans", "import", str(book), "--lender", "Quick Cash Ltd")
    assert out == "" and "Traceback" not in err
    assert loans_in(workdir / "loanbridge.db") == []
    return code, err


def test_a_gbk_file_is_refused_with_its_line_and_how_to_save_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = "\n".join([HEADER, GOOD.replace("张三", "Li Si"), GOOD.replace("L-1", "L-2")]).encode("gbk")
    code, err = _import(capsys, workdir, content)
    assert code == 1
    assert "line 3: the file is not UTF-8 (it looks like GBK" in err and "save it as UTF-8" in err
    assert "codec" not in err and "0x" not in err


def test_a_field_over_the_csv_limit_is_refused_on_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unclosed = GOOD.replace("张三", '"张三') + "\n" + "x" * 140_000  # a quote never closed swallows the rest
    code, err = _import(capsys, workdir, "\n".join([HEADER, GOOD, unclosed]).encode())
    assert code == 1
    assert "line 3: a cell longer than 131072 characters" in err and "check the quotes" in err
    assert len(err) < 1000  # the cell itself is not quoted back


def test_nul_and_line_breaks_in_a_name_are_refused_with_their_lines(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [HEADER, GOOD.replace("张三", '"张\n三"'), GOOD.replace("L-1", "L-2").replace("张三", "张\x01三")]
    code, err = _import(capsys, workdir, "\n".join(lines).encode())
    assert code == 1
    assert "line 2: borrower_name: has a line break inside it" in err
    assert "line 4: borrower_name: has a control character" in err  # line 4: the name above took two

    code, err = _import(capsys, workdir, "\n".join([HEADER, GOOD.replace("张三", "张\x00三")]).encode())
    assert code == 1 and "line 2: borrower_name: has a control character (such as NUL)" in err
