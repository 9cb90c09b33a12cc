"""Trial 3: the schedule told borrowers and lender staff that an instalment unpaid 15 days "ends the
agreement" ("协议就会终止"). The agreement's clause says it is a breach, after which the lender *may*
return to the original terms less what was paid, and the borrower can still talk to a mediator: the
schedule says that, in both languages, to both sides."""

from __future__ import annotations

from bot.channels.terminal import plain
from tests.dialogs.harness import Bot
from tests.dialogs.test_payments import active_plan


async def test_the_schedule_says_what_the_clause_says_about_an_unpaid_instalment(bot: Bot) -> None:
    alice, _, leo = await active_plan(bot)
    await alice.send("/schedule")
    said = plain(alice.texts())
    assert "that is a breach of the agreement: the lender may then return to the original loan terms" in said
    assert "less everything you paid under this agreement" in said
    assert "you can talk to a mediator, free of charge" in said
    await leo.send("/schedule 1")
    said = plain(leo.texts())
    assert "is a breach of the agreement: the lender may then return to the original loan terms" in said
    assert "the borrower can still talk to a mediator" in said

    for person in (alice, leo):
        await person.send("/lang")
        await person.press("中文")
    await alice.send("/schedule")
    said = plain(alice.texts())
    assert "即为违约：贷款机构此后可以按原借款条件主张，但须扣除您按本协议已还的全部款项" in said
    assert "您仍然可以找调解员商量" in said
    await leo.send("/schedule 1")
    said = plain(leo.texts())
    assert "即为违约" in said and "借款人仍可以联系调解员" in said
    for person in (alice, leo):
        assert "ends the agreement" not in person.texts() and "终止" not in person.texts()
