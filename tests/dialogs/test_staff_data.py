"""Lender staff and mediators (user trial 3, item 4): /quiet says what it is and what staff get instead, and
/mydata gives a staff member their own data (account, what they wrote and did) and none of the borrowers'
(ID numbers, phones, income, their story), while a borrower's /mydata stays hers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.terminal import plain
from dialogs.errors import PermissionDenied
from dialogs.flows.mydata import EXPORT_FILE
from storage import models
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_payments import active_plan, as_person, at, report

BORROWER_SECRETS = ("110105199003071239", "13812345678", "6500", "6,500", "I lost my job in October")
REASON = "Nothing arrived in our account on December 2."


async def _export(person: Person) -> tuple[dict[str, Any], str, str]:
    """The export file (parsed, and as sent) and the summary below it."""
    replies = await person.send("/mydata")
    [sent] = [m for m in replies if m.file_name == EXPORT_FILE]
    document = plain(sent.text).split("\n\nYour data was sent above")[0]
    summary = "\n".join(plain(m.text) for m in replies if m.file_name is None)
    return json.loads(document), plain(sent.text), summary


async def test_quiet_tells_staff_what_it_is_and_what_they_get(bot: Bot, clock: FakeClock) -> None:
    _alice, olga, leo = await active_plan(bot)
    await leo.send("/quiet")
    told = leo.texts()
    assert "/quiet is for borrowers: it turns off their instalment reminders" in told, told
    assert "every morning at 09:00 (Asia/Shanghai) a digest of the day before" in told, told
    assert "not for your account" not in told
    await olga.send("/quiet off")
    told = olga.texts()
    assert "/quiet is for borrowers" in told and "/queue and /escalations show what waits" in told, told
    async with bot.store.unit() as session:
        quiet = list(await session.scalars(select(models.Account.quiet_since)))
    assert quiet == [None] * len(quiet)  # nothing was switched for anyone


async def test_lender_staff_get_their_own_data_and_none_of_the_borrowers(bot: Bot, clock: FakeClock) -> None:
    alice, _olga, leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "795.64")
    await leo.press("has not arrived")
    await leo.send(REASON)
    await leo.press("Send it")
    exported, sent, summary = await _export(leo)
    assert exported["format"] == "loanbridge-staff-data/1"
    assert exported["account"]["role"] == "lender" and exported["account"]["lender"] == "Demo Lender"
    assert exported["account"]["user"] == "leo"
    [disputed] = exported["payment_decisions"]
    assert (disputed["decision"], disputed["reason"], disputed["case"]) == ("disputed", REASON, 1)
    kinds = {action["kind"] for action in exported["case_actions"]}
    assert "payment_disputed" in kinds and all(
        set(a) == {"case", "kind", "at"} for a in exported["case_actions"]
    )
    for secret in BORROWER_SECRETS:
        assert secret not in sent, secret
    assert "Your account: lender staff for Demo Lender" in summary, summary
    assert "1 decision on payments (1 with a dispute reason in your words)" in summary, summary
    assert "Not in it: the borrowers' personal data" in summary


async def test_a_mediators_export_holds_her_words_and_her_borrowers_stay_hers(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, _leo = await active_plan(bot)
    await olga.send("/case 1")
    await olga.press("Message the borrower")
    await olga.send("Your plan is running; write to me any time.")
    exported, sent, summary = await _export(olga)
    assert exported["account"]["role"] == "operator" and exported["account"]["lender"] is None
    [written] = exported["messages_written"]
    assert written["text"] == "Your plan is running; write to me any time." and written["case"] == 1
    assert {"transition", "message_mediator"} <= {a["kind"] for a in exported["case_actions"]}
    for secret in BORROWER_SECRETS:
        assert secret not in sent, secret
    assert "a mediator (operator)" in summary and "0 broadcasts" in summary, summary
    # The borrower's own /mydata is still hers, with her data in it
    theirs, _, _ = await _export(alice)
    assert "cases" in theirs and "messages_written" not in theirs


async def test_the_store_gives_the_staff_export_to_staff_only(bot: Bot, clock: FakeClock) -> None:
    await active_plan(bot)
    with pytest.raises(PermissionDenied):
        await as_person(bot, "alice", lambda turn: turn.staff_personal_data())
    exported = await as_person(bot, "leo", lambda turn: turn.staff_personal_data())
    assert isinstance(exported, dict) and exported["account"]["user"] == "leo"
