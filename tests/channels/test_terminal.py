"""`loanbridge chat` as a newcomer runs it: a real process on a SQLite file, driven through stdin."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.demo import DEMO_BORROWER

CODE = re.compile(r"one-time code for \S+: (\d{6})")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "LANG": "en_US.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }


def chat(
    env: dict[str, str], cwd: Path, lines: list[str], *args: str, user: str = "alice"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", user, *args],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=True,
    )


def test_a_newcomer_goes_from_the_demo_to_a_submitted_application(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = chat(
        env,
        tmp_path,
        ["1", "1", DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone],
        "--demo",
    )
    assert "Demo loan book loaded" in first.stdout
    assert "1) Let's begin" in first.stdout
    assert "6-digit code to 138****5678" in first.stdout
    assert DEMO_BORROWER.id_number not in first.stderr  # personal data never in the log
    (code,) = CODE.findall(first.stderr)
    finances = ["6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"]
    second = chat(env, tmp_path, [code, "1", "1", "I lost my job.", "1", *finances, "1", "1", "1"])
    assert second.stdout.startswith("Welcome back")  # a new process picks up at the code question
    assert "you are verified" in second.stdout
    assert "Submitted. Your application number is 1." in second.stdout


def test_a_killed_chat_resumes_at_the_same_question(env: dict[str, str], tmp_path: Path) -> None:
    chat(env, tmp_path, ["1", "1", DEMO_BORROWER.loan_ref], "--demo")
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(DEMO_BORROWER.name + "\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        seen = ""
        while "resident ID number" not in seen and time.monotonic() < deadline:
            seen += process.stdout.readline()
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert "resident ID number" in seen
    resumed = chat(env, tmp_path, [])
    assert "Welcome back" in resumed.stdout
    assert "resident ID number" in resumed.stdout


def test_without_a_loan_book_the_chat_says_how_to_get_the_demo(env: dict[str, str], tmp_path: Path) -> None:
    result = chat(env, tmp_path, [])
    assert "loanbridge chat --demo" in result.stdout
    assert "Hello, I am LoanBridge" in result.stdout


def test_two_terminals_on_one_database_share_a_case(env: dict[str, str], tmp_path: Path) -> None:
    """A borrower and a mediator in two `loanbridge chat` processes: each terminal shows only its own
    person's messages; what one causes for the other waits in the outbox until the other's terminal opens."""
    verify = [DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone]
    first = chat(env, tmp_path, ["1", "1", *verify], "--demo")
    (code,) = CODE.findall(first.stderr)
    finances = ["6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"]
    submitted = chat(env, tmp_path, [code, "1", "1", "I lost my job.", "1", *finances, "1", "1", "1"])
    assert "Submitted. Your application number is 1." in submitted.stdout
    mediator = chat(env, tmp_path, ["/queue", "1", "1"], "--as", "operator", user="olga")
    assert "Case #1 approved" in mediator.stdout
    assert "sent it to the lender" not in mediator.stdout  # the borrower's news is not for this terminal
    later = chat(env, tmp_path, [])
    assert "sent it to the lender" in later.stdout
