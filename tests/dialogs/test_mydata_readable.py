"""/mydata as the second user trial asked: a summary a person can read (payments, the schedule, the case log
in words, in their language) beside the machine-readable export, whose case-log entries are JSON objects that
still check against the signed head."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.channels.telegram import MAX_TEXT, split_text
from bot.channels.terminal import plain
from bot.channels.wechat import MAX_BYTES, split_bytes
from storage import merkle
from storage.case_log import canonical_json
from storage.signing import Signer
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person, running_bot
from tests.dialogs.test_payments import active_plan, at, report


@pytest.fixture
async def bot(database_url: str, clock: FakeClock) -> AsyncIterator[Bot]:
    """A bot whose case log is signed, so that the export holds entries with their proofs."""
    async with running_bot(database_url, clock, signer=Signer(Ed25519PrivateKey.generate())) as running:
        yield running


async def paid_and_disputed(bot: Bot, clock: FakeClock) -> Person:
    """A running plan with one payment confirmed and one the lender disputes."""
    alice, _, leo = await active_plan(bot)
    at(clock, "2026-12-01")
    await report(alice, "800")
    await leo.press("Confirm ¥800.00 received")
    at(clock, "2027-01-02")
    await report(alice, "500")
    await leo.press("has not arrived")
    await leo.send("No transfer of ¥500 arrived.")
    await leo.press("Send it")
    await bot.store.sequence_log()
    return alice


def summary_of(person: Person) -> str:
    """The summary beside the file (the signed agreement, sent when the log is sequenced, may come too)."""
    return plain([m for m in person.last if "mydata/export" in m.templates][-1].text)


def export_of(person: Person) -> dict[str, Any]:
    (document,) = [m for m in person.last if m.file_name == "loanbridge-my-data.json"]
    data: dict[str, Any] = json.loads(plain(document.text))
    return data


async def test_the_summary_says_payments_schedule_and_log_in_words(bot: Bot, clock: FakeClock) -> None:
    alice = await paid_and_disputed(bot, clock)
    await alice.send("/mydata")
    summary = summary_of(alice)
    for fact in (
        "• Repayment schedule under the agreement: ¥800.00 paid of ¥14,321.55, ¥13,521.55 still to pay"
        " under the agreement",
        "  – 1. December 2, 2026 – ¥795.64 – paid",
        "  – 2. January 2, 2027 – ¥795.64 – partly paid, ¥4.36 paid",
        "• Payments you reported:",
        "  – ¥800.00 paid December 1, 2026, reported Dec 1, 11:00 Beijing time: confirmed",
        "  – ¥500.00 paid January 2, 2027, reported Jan 2, 11:00 Beijing time: the lender cannot find it;"
        ' a mediator will decide (the lender says: "No transfer of ¥500 arrived.")',
        "What happened on application 1 (its case log, oldest first):",
        "– you: application opened",
        "– you: agreement confirmed",
        "– the lender: agreement confirmed",
        "– the mediator: now: approved, waiting for the lender's answer",
        "Dec 1, 11:00 Beijing time – you: payment reported",
        "Dec 1, 11:00 Beijing time – the lender: payment confirmed",
        "– the lender: payment disputed by the lender",
    ):
        assert fact in summary, (fact, summary.splitlines())
    assert "{" not in summary and "event_" not in summary

    await alice.send("/lang")
    await alice.press("中文")
    await alice.send("/mydata")
    summary = summary_of(alice)
    for fact in (
        "• 按协议的还款计划：共 ¥14,321.55，已还 ¥800.00，按协议还需还 ¥13,521.55",
        "  – 2026年12月1日付款 ¥800.00，于 12月1日 11:00（北京时间）报告：已确认",
        "申请 1 的经过（案件日志，按时间先后）：",
        "（北京时间） – 您：申请已创建",
        "（北京时间） – 贷款机构：付款已确认",
    ):
        assert fact in summary, (fact, summary.splitlines())
    assert "Payments" not in summary and "you:" not in summary


async def test_the_export_is_versioned_and_its_log_entries_are_objects_that_check(
    bot: Bot, clock: FakeClock
) -> None:
    alice = await paid_and_disputed(bot, clock)
    await alice.send("/mydata")
    data = export_of(alice)
    assert data["format"] == "loanbridge-personal-data/2"
    (case,) = data["cases"]
    assert [(p["amount"], p["paid_on"], p["status"]) for p in case["payments"]] == [
        ("800.00", "2026-12-01", "confirmed"),
        ("500.00", "2027-01-02", "disputed"),
    ]
    assert case["payments"][1]["dispute_reason"] == "No transfer of ¥500 arrived."
    assert len(case["schedule"]) == 18 and case["schedule"][0]["due_date"] == "2026-12-02"
    assert {e["by"] for e in case["events"]} >= {"borrower", "lender", "operator"}

    log = case["case_log"]
    root, size = base64.b64decode(log["signed_head"]["root"]), log["signed_head"]["tree_size"]
    assert "sort_keys=True" in log["how_to_check"]
    for e in log["entries"]:
        assert isinstance(e["entry"], dict), e  # an object to read, not an escaped string
        leaf = merkle.leaf_hash(canonical_json(e["entry"]))  # its bytes, as how_to_check says
        proof = [base64.b64decode(node) for node in e["proof"]]
        assert merkle.verify_inclusion(leaf, e["log_index"], size, proof, root)
    kinds = [e["entry"]["kind"] for e in log["entries"]]
    assert kinds.count("payment_reported") == 2 and "payment_disputed" in kinds


async def test_both_fit_the_channels(bot: Bot, clock: FakeClock) -> None:
    """Telegram splits the summary at 4,096 characters and sends the file as a file; WeChat sends both as
    text parts within 2,048 bytes: a running plan's export stays a handful of messages."""
    alice = await paid_and_disputed(bot, clock)
    await alice.send("/mydata")
    (document,) = [m for m in alice.last if m.file_name == "loanbridge-my-data.json"]  # the signed
    summary = summary_of(alice)  # agreement, sequenced in the background, may come alongside
    assert len(split_text(summary)) <= 3 and all(len(p) <= MAX_TEXT for p in split_text(summary))
    wechat = split_bytes(plain(document.text), MAX_BYTES - 200)
    assert len(wechat) <= 25  # 19 for this plan (17 with the entries as escaped strings)


async def test_the_export_goes_once_a_request_and_a_step_asked_again_offers_it_again(
    bot: Bot, clock: FakeClock
) -> None:
    """Trial 3: a reopened terminal resumed at "your data was sent above" with nothing above, and a
    language change re-sent the 56 KB file. Asked again, the step says where the data went and offers it."""
    alice, _, _ = await active_plan(bot)
    await alice.send("/mydata")
    assert exported(alice)
    await alice.send("/schedule 99")
    await alice.send("/lang")
    await alice.press("中文")
    assert not exported(alice)
    assert "您的信息之前已发给您：文件 loanbridge-my-data.json 以及一份文字摘要" in alice.texts()
    await alice.press("再发一次")
    assert exported(alice)
    assert "我们保存的关于您的信息摘要" in summary_of(alice)
    await alice.send("/menu")
    await alice.press("我的信息")  # the menu's entry is a request too
    assert exported(alice)


def exported(person: Person) -> bool:
    """Whether the export file came with the last reply (the signed agreement may come alongside)."""
    return any(m.file_name == "loanbridge-my-data.json" for m in person.last)


async def test_the_summary_says_who_decided_dates_on_her_clock_and_which_figure_is_which(
    bot: Bot, clock: FakeClock
) -> None:
    """Trial 3, item 9: the summary said dates in UTC ("with us since" the day before, in Beijing's
    morning), "terminal 账号", a payment the mediator counted over the lender's objection as if the lender
    confirmed it, two "outstanding" figures without saying which is which, the borrower's own plan as the
    mediator's offer, and a mediator's message held for her hours as if delivered."""
    clock.current = datetime(2026, 11, 1, 22, 30, tzinfo=UTC)  # 06:30 on November 2 in Beijing
    alice, olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "500")
    await leo.press("has not arrived")
    await leo.send("Nothing in our account ending 8812.")
    await leo.press("Send it")
    await olga.send("/schedule 1")
    await olga.press("was paid: count it")
    await olga.press("Yes, decide it")
    clock.current = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # 04:00 on December 3 in Beijing: held
    await olga.send("/case 1")
    await olga.press("Message the borrower")
    await olga.send("We counted your payment; nothing else is needed.")
    assert "waits until" in olga.texts()
    await alice.send("/lang")
    await alice.press("中文")
    await alice.send("/mydata")
    summary = summary_of(alice)
    for fact in (
        "您的身份：终端账号 alice",
        "2026年11月2日开始使用本服务",
        "2026年11月2日提交",
        "调解员认定已到账（贷款机构曾说：“Nothing in our account ending 8812.”）",
        "申请时的未还本金 ¥",
        "按协议的还款计划：共 ¥14,321.55，已还 ¥500.00，按协议还需还 ¥13,821.55",
        "您（经调解员转交）：",
        "——尚未送达：将于 12月3日 08:00（北京时间）发给您",
    ):
        assert fact in summary, (fact, summary.splitlines())
    for wrong in ("2026年11月1日", "terminal", "已确认（贷款机构说", "调解员：方案已提出"):
        assert wrong not in summary, (wrong, summary.splitlines())
