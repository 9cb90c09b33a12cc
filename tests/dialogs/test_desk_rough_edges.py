"""Rough edges a newcomer found in the mediator's and staff views: what a list shows matches what it says,
a submitted case offers its review wherever it is opened, names and words read right in both languages.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bot import cli, terminal_chat
from bot.channels.terminal import plain
from bot.channels.terminal_input import LineReader
from bot.demo import DEMO_BORROWER
from dialogs.loanbook import COLUMNS
from templates import TEMPLATE_DIR
from tests.dialogs.harness import Bot, Person, operator, submit_application
from tests.dialogs.test_navigation import reach
from tests.dialogs.test_negotiation import approved, in_review
from tests.test_cli import GOOD


async def test_a_case_asked_for_more_is_gone_from_the_queue_shown_next(bot: Bot) -> None:
    _alice, olga = await in_review(bot)
    await olga.send("/queue")
    assert "grade B, submitted today" in olga.texts() and "0 days" not in olga.texts(), olga.texts()
    await olga.press("#1")
    await olga.press("Ask for more")
    await olga.send("Could you send your termination letter?")
    told = olga.texts()
    assert "leaves the queue" in told and "Nothing waits for review" in told, told
    assert "[#1" not in told, told


async def _report_harassment(alice: Person) -> None:
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang, 13900001111")
    await alice.send("2026-11-20 22:30")
    await alice.press("Contacting my family")
    await alice.send("They called my mother at night.")
    await alice.press("Skip")
    if "File this report?" in alice.texts():  # a check of the report before it is filed
        await alice.press("File this report")
    assert "is recorded" in alice.texts(), alice.texts()


async def test_a_submitted_case_shows_its_reports_and_offers_its_review_wherever_it_is_opened(
    bot: Bot,
) -> None:
    alice, olga = await in_review(bot)
    await _report_harassment(alice)
    await olga.send("/queue")
    await olga.press("#1")
    view = olga.texts()
    assert "Harassment reports (1 open)" in view and "Collector Wang" in view, view
    assert "[Approve]" in view and "[Outcome of report #1]" in view, view

    await olga.send("/escalations")
    await olga.press("#1")
    view = olga.texts()
    assert "Collector Wang" in view, view
    for action in ("[Approve]", "[Reject (with a reason)]", "[Ask for more information]"):
        assert action in view, (action, view)
    await olga.press("Approve")
    assert "Case #1 approved" in olga.texts(), olga.texts()


async def test_the_menu_counts_what_the_escalations_list_shows(bot: Bot) -> None:
    _alice, olga = await in_review(bot)
    bob = bot.person("bob")
    await bob.send("/start")
    await bob.send("/help")
    await bob.press("Talk to a person")
    await bob.press("Send without a message")
    await olga.send("/menu")
    assert "[Escalations (1)]" in olga.texts(), olga.texts()  # bob's request; the case waits for review
    await olga.press("Escalations")
    listed = olga.texts()
    assert "No case needs mediation" in listed and "request 1" in listed, listed


async def test_a_lender_is_found_whatever_the_case_and_the_lenders_are_named_when_none_is(bot: Bot) -> None:
    olga = await operator(bot)
    await olga.send("/invite demo lender")
    assert "Invite for Demo Lender" in olga.texts(), olga.texts()
    await olga.send("/invite Nobody Ltd")
    told = olga.texts()
    assert "No lender is called 'Nobody Ltd'. Lenders: Demo Lender" in told, told
    assert "could not be done" not in told
    await olga.send("/cases approved nobody")
    assert "No lender is called 'nobody'. Lenders: Demo Lender." in olga.texts(), olga.texts()

    bob = bot.person("bob")
    await bob.send("/start")
    await bob.send("/invite Nobody Ltd")
    assert "Demo Lender" not in bob.texts(), bob.texts()  # the list is for mediators


async def test_mydata_says_what_is_stored_in_the_persons_language_beside_the_file(bot: Bot) -> None:
    alice = bot.person("alice")
    await submit_application(alice, bot)
    await alice.send("/mydata")
    (document,) = [m for m in alice.last if m.file_name]
    assert json.loads(plain(document.text))["cases"][0]["hardship"]["description"]  # the file, as before
    summary = plain(alice.last[-1].text)
    for fact in (
        "Who you are: terminal account alice",
        f"Your loan: DEMO-0001 – {DEMO_BORROWER.name}, ID {DEMO_BORROWER.id_number}, phone +86",
        'Hardship: Lost my job, temporary – "I lost my job in October and I am looking for work."',
        "Budget: income ¥6,500.00, essentials ¥4,450.00",
        "Plan you chose: Interest stopped",
        "If you erase your data (/delete)",
    ):
        assert fact in summary, (fact, summary.splitlines())
    assert "{" not in summary

    await alice.send("/lang")
    await alice.press("中文")
    await alice.send("/mydata")
    summary = plain(alice.last[-1].text)
    for fact in (
        "您的身份",
        "困难情况：失业，暂时",
        "收支情况：收入 ¥6,500.00，必要开支 ¥4,450.00",
        "删除个人信息",
    ):
        assert fact in summary, (fact, summary.splitlines())
    assert "note" not in summary and "Who you are" not in summary


def test_a_chinese_moment_runs_into_the_next_word() -> None:
    """'12月4日 21:00（北京时间）前答复': the zone's bracket already parts the moment from the next word."""
    spaced = re.compile(r"\|moment \}\} [\u4e00-\u9fff]")
    found = [p.name for p in (TEMPLATE_DIR / "zh_CN").rglob("*.j2") if spaced.search(p.read_text("utf-8"))]
    assert not found


async def test_the_demo_banner_speaks_the_terminals_language(
    bot: Bot, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = LineReader(io.BytesIO(b""), "utf-8")
    await terminal_chat._offer_demo(bot.store, True, False, reader, bot.app.renderer, "zh_CN")
    said = capsys.readouterr().out
    assert "演示借款台账已载入（Demo Lender）" in said and f"身份证号 {DEMO_BORROWER.id_number}" in said, said
    assert "loan reference" not in said
    await terminal_chat._offer_demo(bot.store, True, False, reader, bot.app.renderer, "en")
    assert "Demo loan book loaded (Demo Lender)" in capsys.readouterr().out


async def test_status_names_whose_offer_it_was_says_a_step_once_and_shows_the_next_instalment(
    bot: Bot,
) -> None:
    alice, _olga, leo = await approved(bot)
    await alice.send("/status")
    said = alice.texts()
    assert said.count("hardship described") == 1, said
    assert "offer made by the borrower" in said, said  # the mediator sent it, but the plan is the borrower's

    await leo.press("View and answer")
    await leo.press("Accept")
    await leo.press("Confirm this agreement")
    await alice.press("Confirm this agreement")
    await alice.send("/status")
    said = alice.texts()
    assert "offer accepted by the lender" in said, said
    assert "Next instalment: ¥795.64 due December 2, 2026 (instalment 1)" in said, said


async def test_choosing_again_says_what_changed(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "submit:review")
    await alice.press("Change budget")
    await alice.press("Correct a figure")
    await alice.press("Income")
    await alice.send("5000")
    await alice.press("Yes")
    said = next(plain(m.text) for m in alice.last if "set it aside" in plain(m.text))
    assert "worked out from your budget, which has changed" in said, said
    assert "hardship" not in said and "balance" not in said


def test_the_cli_counts_one_loan_as_one_loan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("LOANBRIDGE_DATABASE_URL", "LOANBRIDGE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    book = tmp_path / "book.csv"
    book.write_text(",".join(COLUMNS) + "\n" + GOOD + "\n", encoding="utf-8")
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["lender", "add", "Quick Cash Ltd"]) == 0
    capsys.readouterr()
    assert cli.main(["loans", "import", str(book), "--lender", "Quick Cash Ltd"]) == 0
    assert capsys.readouterr().out == "imported 1 loan for 'Quick Cash Ltd': 1 new, 0 updated\n"
