"""Notices on the terminal: they arrive from another terminal within about a second, and they never take
the numbers away from the question on screen (their own buttons get letters)."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.channels.terminal import TerminalChannel
from bot.demo import DEMO_BORROWER
from bot.rendering import Rendered, RenderedButton
from dialogs.domain import Account, Channel, Role
from dialogs.messages import InboundKind
from tests.channels.test_terminal import CODE, chat, env  # noqa: F401 - env is a fixture
from tests.dialogs.harness import running_bot

ALICE = Account(1, Channel.TERMINAL, "alice", Role.BORROWER, "en", "Asia/Shanghai", reachable=True)
QUESTION = Rendered("Which plan?", (RenderedButton("3.a", "First"), RenderedButton("3.b", "Second")))
NOTICE = Rendered("New offer on case 1.", (RenderedButton("0.g:open:1", "Open case 1"),))


async def test_a_notice_mid_question_leaves_the_numbers_to_the_question() -> None:
    out = io.StringIO()
    terminal = TerminalChannel("alice", out)
    terminal.inbound("/start")  # the person typed; the question is the reply
    await terminal.send(ALICE, QUESTION)
    await terminal.send(ALICE, NOTICE)
    assert "  a) Open case 1" in out.getvalue() and "  1) First" in out.getvalue()
    first = terminal.inbound("1")
    assert first is not None and (first.kind, first.payload) == (InboundKind.CHOICE, "3.a")
    opened = terminal.inbound("a")
    assert opened is not None and (opened.kind, opened.payload) == (InboundKind.CHOICE, "0.g:open:1")


async def test_a_number_at_a_typed_question_is_its_answer_even_after_a_notice() -> None:
    terminal = TerminalChannel("alice", io.StringIO())
    terminal.inbound("Counter-offer")
    await terminal.send(ALICE, Rendered("Over how many months?"))
    await terminal.send(ALICE, NOTICE)
    months = terminal.inbound("6")
    assert months is not None and (months.kind, months.payload) == (InboundKind.TEXT, "6")


def _read_for(stream: int, wanted: str, seconds: float) -> tuple[str, float | None]:
    """What the process printed until ``wanted`` appeared (and when), or the time ran out."""
    seen, deadline = "", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.05)
        if ready:
            chunk = os.read(stream, 65536)
            if not chunk:
                break
            seen += chunk.decode(errors="replace")
            if wanted in seen:
                return seen, time.monotonic()
    return seen, None


def test_a_notice_from_another_terminal_arrives_within_two_seconds(
    env: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    verify = [DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone]
    first = chat(env, tmp_path, ["1", "1", *verify], "--demo")
    (code,) = CODE.findall(first.stderr)
    finances = ["6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"]
    chat(env, tmp_path, [code, "1", "1", "I lost my job.", "1", *finances, "1", "1", "1"])
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    ) as borrower:
        assert borrower.stdout is not None and borrower.stdin is not None
        _read_for(borrower.stdout.fileno(), "\n\n", 60)  # the menu it opens with
        mediator = chat(env, tmp_path, ["/queue", "1", "1"], "--as", "operator", user="olga")
        approved_at = time.monotonic()
        assert "Case #1 approved" in mediator.stdout
        seen, arrived = _read_for(borrower.stdout.fileno(), "a) Open case 1", 10)
        borrower.stdin.close()
        borrower.wait(timeout=60)
    assert arrived is not None, seen[-3000:]
    assert arrived - approved_at < 2.0, arrived - approved_at
    assert "  a) Open case 1" in seen  # a notice's button by letter: the numbers stay with the menu
    assert not re.search(r"\b(INFO|WARNING|DEBUG)\b", seen)  # no log line in the conversation


async def test_a_staff_terminal_opens_on_its_menu_not_a_refusal(database_url: str, clock: Any) -> None:
    async with running_bot(database_url, clock) as bot:
        await bot.store.grant_role(Channel.TERMINAL, "lee", Role.LENDER, lender_name="Demo Lender")
        await bot.store.grant_role(Channel.TERMINAL, "omar", Role.OPERATOR)
        for user in ("lee", "omar"):
            opened = "\n".join(m.text for m in await bot.person(user).send("/start"))
            assert "not for your account" not in opened and "不适用" not in opened, opened
            assert ("/cases" if user == "lee" else "/queue") in opened  # their own menu
