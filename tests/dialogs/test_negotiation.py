"""Several people on one case, through the engine: the mediator reviews, the lender answers, offers go back
and forth, both confirm the agreement; and the paths that end elsewhere.
"""

from __future__ import annotations

from typing import Any

from dialogs.domain import Channel
from dialogs.lifecycle import CaseState
from tests.dialogs.harness import Bot, Person, lender_staff, operator, submit_application


async def _case_state(bot: Bot, user: str = "alice") -> CaseState:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    return (await bot.store.cases_of(account.id))[-1].state


async def _approved(bot: Bot) -> tuple[Person, Person, Person]:
    alice = bot.person("alice")
    await submit_application(alice, bot)
    olga = await operator(bot)
    leo = await lender_staff(bot, olga)
    await olga.send("/queue")
    assert "#1" in olga.texts()
    await olga.press("#1")
    review = olga.texts()
    assert "Borrower: 张*, ID 110***********1239" in review and "110105199003071239" not in review
    assert "Risk: grade" in review and "Interest check" in review
    await olga.press("Approve")
    assert "approved" in olga.texts()
    assert "sent it to the lender" in alice.received()[0].text
    notice = "\n".join(m.text for m in leo.received())
    assert "New application, case #1" in notice and "Risk grade" in notice and "Please answer by" in notice
    return alice, olga, leo


async def test_counter_offers_until_agreement(bot: Bot, clock: Any) -> None:
    alice, olga, leo = await _approved(bot)
    await leo.press("View and answer")
    assert "Pending offer (round 1, from borrower)" in leo.texts()
    await leo.press("Counter-offer")
    await leo.press("Longer term, equal instalments")
    await leo.send("12")
    await leo.send("1400")
    assert "It needs about ¥1,480.94 a month" in leo.texts()
    await leo.send("1500")
    assert "Your offer:" in leo.texts()
    await leo.press("Send")
    assert "Offer sent on case 1" in leo.texts()
    assert await _case_state(bot) is CaseState.NEGOTIATING

    assert "New offer from the lender on case 1" in alice.received()[0].text
    await alice.press("View and answer")
    await alice.press("Counter-offer")
    await alice.press("Interest stopped")
    await alice.send("12")
    await alice.send("1200")
    await alice.press("Send")
    assert "Offer sent" in alice.texts()

    leo.received()
    await leo.press("View and answer")
    assert "round 3, from borrower" in leo.texts()
    await leo.press("Accept")
    both = "\n".join(m.text for m in leo.last)
    assert "Please read the agreement (version 1" in both
    document = next(m for m in leo.last if m.file_name)
    assert document.file_name == "agreement-1-v1.txt" and "REPAYMENT AGREEMENT" in document.text
    assert "Content hash (SHA-256)" in document.text and "110***********1239" in document.text

    alice.received()
    await alice.press("Confirm this agreement")
    assert "waiting for the other side" in alice.texts()
    await leo.press("Confirm this agreement")
    assert "Agreed: both sides confirmed version 1" in leo.texts()
    assert await _case_state(bot) is CaseState.ACTIVE
    await alice.send("/agreement")
    assert any(m.file_name == "agreement-1-v1.txt" for m in alice.last)
