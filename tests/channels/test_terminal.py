"""`loanbridge chat` as a newcomer runs it: a real process on a SQLite file, driven through stdin."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_services
from bot.channels.terminal import neutralised
from bot.channels.terminal_files import FileRefused, file_facts
from bot.demo import DEMO_BORROWER
from bot.settings import load_settings
from dialogs.dispatch import Dialogs
from dialogs.flows import ALL_FLOWS, COMMANDS
from tests.dialogs.harness import lender_staff, operator, running_bot, start_and_consent

CODE = re.compile(r"one-time code for \S+: (\d{6})")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LOANBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "LOANBRIDGE_TERMINAL_FILES": str(tmp_path / "files"),  # documents it receives: not in the real home
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


GOODBYE = "Goodbye. Everything you entered is kept"
NOT_A_FILE = "is not a file I can send"


def chat_bytes(env: dict[str, str], cwd: Path, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "alice", *args],
        input=data,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


def test_a_paste_cut_mid_character_and_a_long_chinese_paste_get_a_kind_answer(
    env: dict[str, str], tmp_path: Path
) -> None:
    long_paste = ("我失业了，每个月的收入不够还款。" * 283)[:4520].encode()
    cut = "我的贷款".encode()[:-1]  # the terminal cut the last character in the middle
    result = chat_bytes(env, tmp_path, b"1\n1\n" + long_paste + b"\n" + cut + b"\n", "--demo")
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in out + err and "UnicodeEncodeError" not in err
    assert "it was 4,520 characters, and the limit is 64" in out
    assert "What is your full name" in out  # the cut line was read (its last character replaced), not fatal
    assert _last_line(out).startswith(GOODBYE)


def _wait_for_the_greeting(stdout: Any) -> None:
    """Up to the blank line that ends the first message (its buttons included)."""
    seen = ""
    deadline = time.monotonic() + 60
    while not ("Let's begin" in seen and seen.endswith("\n\n")) and time.monotonic() < deadline:
        seen += stdout.readline()


def test_ctrl_c_while_waiting_for_a_line_leaves_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    chat(env, tmp_path, [], "--demo")
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    ) as process:
        assert process.stdout is not None
        _wait_for_the_greeting(process.stdout)
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=30)
    assert process.returncode in (0, 130)
    assert "Traceback" not in rest + err and "KeyboardInterrupt" not in err
    assert [line for line in rest.splitlines() if line.strip()] == [_last_line(rest)]
    assert _last_line(rest).startswith(GOODBYE)


def test_ctrl_c_while_a_reply_is_pending_leaves_without_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    chat(env, tmp_path, [], "--demo")
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        _wait_for_the_greeting(process.stdout)
        process.stdin.write("1\n" * 20)
        process.stdin.flush()
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=30)
    assert process.returncode in (0, 130)
    assert "Traceback" not in rest + err
    assert _last_line(rest).startswith(GOODBYE)


def test_quit_leaves_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = chat(env, tmp_path, ["/quit", "1"], "--demo")
    assert _last_line(result.stdout).startswith(GOODBYE)
    assert "I consent" not in result.stdout  # nothing after /quit was read


def test_on_one_terminal_the_log_goes_to_a_file_and_the_code_is_still_shown(
    env: dict[str, str], tmp_path: Path
) -> None:
    """stdin, stdout and stderr all one terminal (a pty): no log line may land in the conversation."""
    verify = [DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone]
    script = "".join(line + "\n" for line in ["1", "1", *verify, "/quit"]).encode()
    main, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--demo", "--user", "alice"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=tmp_path,
    ) as process:
        os.close(terminal)
        os.write(main, script)
        screen = _read_until_closed(main, deadline=time.monotonic() + 60).decode(errors="replace")
        returncode = process.wait(timeout=30)
    os.close(main)
    # Leaving while the reader waits on the terminal: no abort ("Fatal Python error: _enter_buffered_busy").
    assert returncode == 0 and "Fatal Python error" not in screen, screen[-500:]
    log = (tmp_path / "loanbridge.log").read_text(encoding="utf-8")
    assert "LOANBRIDGE_SECRET_KEY is not set" in log and "one-time code for 138****5678" in log
    assert "WARNING" not in screen and "LOANBRIDGE_SECRET_KEY" not in screen
    (code,) = re.findall(r"one-time code for 138\*\*\*\*5678 is (\d{6})", screen)
    assert code in log
    assert GOODBYE in screen


def _read_until_closed(descriptor: int, deadline: float) -> bytes:
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([descriptor], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # the other end closed: the chat has exited
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_file_refuses_a_device_and_a_pipe_at_once(env: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = chat(
        env, tmp_path, ["1", "1", "/file /dev/zero", f"/file {fifo}", "/file no-such-file.pdf"], "--demo"
    )
    assert time.monotonic() - started < 60
    assert result.stdout.count(NOT_A_FILE) == 2
    assert 'There is no file at "no-such-file.pdf"' in result.stdout
    assert "Traceback" not in result.stderr


def test_a_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as sparse:
        sparse.truncate(64 * 1024**3)  # 64 GB that take no disk: reading them would take minutes
    started = time.monotonic()
    facts = file_facts(str(huge))
    assert time.monotonic() - started < 5
    assert facts["size"] == 64 * 1024**3 and facts["sha256"] == "0" * 64  # the flow refuses it by size
    small = tmp_path / "letter.pdf"
    small.write_bytes(b"%PDF letter")
    assert file_facts(str(small))["size"] == len(b"%PDF letter")
    with pytest.raises(FileRefused):
        file_facts(str(tmp_path))


def test_a_borrowers_story_cannot_drive_the_mediators_terminal(env: dict[str, str], tmp_path: Path) -> None:
    verify = [DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone]
    first = chat(env, tmp_path, ["1", "1", *verify], "--demo")
    (code,) = CODE.findall(first.stderr)
    story = "I lost my job.\x1b]0;owned\x07\x1b[2J\u202eevil\u2066 \x9b31m end"
    finances = ["6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"]
    chat(env, tmp_path, [code, "1", "1", story, "1", *finances, "1", "1", "1"])
    mediator = chat(env, tmp_path, ["/queue", "1"], "--as", "operator", user="olga")
    assert "I lost my job." in mediator.stdout
    for raw in ("\x1b", "\x07", "\u202e", "\u2066", "\x9b"):
        assert raw not in mediator.stdout
    assert "␛]0;owned␇␛[2J" in mediator.stdout  # shown, so the mediator sees something odd was there


def test_neutralising_keeps_the_bots_own_formatting() -> None:
    text = "Plan:\n\t• 24 months – ¥820.55\n我的贷款 👩‍👩‍👧 «ok»"
    assert neutralised(text) == text
    assert neutralised("a\rb\x00c\u200fd\x7f") == "a␍b␀c\ufffdd␡"


async def test_help_lists_every_command_that_works_for_each_person(database_url: str, clock: Any) -> None:
    """Each command dispatch accepts is tried as each kind of person; every one that is not refused is in
    their /help. The terminal's own commands are listed only on the terminal (this recorder has none)."""
    names = Dialogs(ALL_FLOWS, build_services(load_settings()), commands=COMMANDS).commands
    refused = (
        "not for your account",
        "not something you can do",
        "I don't know the command",
        "is for borrowers",  # /quiet explained to staff
    )
    async with running_bot(database_url, clock) as bot:
        olga = await operator(bot)
        leo = await lender_staff(bot, olga)
        alice = bot.person("alice")
        await start_and_consent(alice)
        for person in (alice, leo, olga):
            await person.send("/help")
            listed = set(re.findall(r"(?:^|· )(/[a-z]+)", person.texts(), re.MULTILINE))
            assert "/quit" not in listed and "/file" not in listed
            for name in sorted(set(names) - {"join"}):  # /join CODE is the invite's /start CODE, listed
                await person.send("/menu")
                await person.send(f"/{name} Demo Lender" if name == "invite" else f"/{name}")
                if not any(words in person.texts() for words in refused):
                    assert f"/{name}" in listed, f"{person.user} can use /{name}; /help does not say so"


def test_help_on_the_terminal_lists_its_own_commands(env: dict[str, str], tmp_path: Path) -> None:
    borrower = chat(env, tmp_path, ["/help"], "--demo")
    assert "/quit – leave this chat" in borrower.stdout
    assert "/file PATH – send a document or photo" in borrower.stdout
    assert "/agreement – your repayment agreement" in borrower.stdout
    mediator = chat(env, tmp_path, ["/help"], "--as", "operator", user="olga")
    assert "/quit – leave this chat" in mediator.stdout
    assert "/file" not in mediator.stdout  # a mediator sends no evidence
