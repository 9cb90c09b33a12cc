"""The whole borrower flow as a transcript: consent, verification, hardship, finances, plan, submission."""

from __future__ import annotations

from dialogs.lifecycle import CaseState
from tests.dialogs.harness import Bot, verify


async def test_full_flow_in_english(bot: Bot) -> None:
    alice = bot.person("alice", "en")
    await alice.send("/start")
    assert "free" in alice.texts()
    await alice.press("begin")
    assert "consent" in alice.texts()
    await alice.press("I consent")
    assert "loan reference" in alice.texts()
    await verify(alice, bot)
    print(alice.texts())
    assert "What made repaying difficult?" in alice.texts()
    await alice.press("Lost my job")
    await alice.press("It will pass")
    await alice.send("I lost my job in October and I am looking for work.")
    await alice.press("Skip")
    for amount in ("6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"):
        await alice.send(amount)
    print(alice.texts())
    assert "Is this right?" in alice.texts()
    await alice.press("Yes")
    print(alice.texts())
    await alice.press("¥")
    print(alice.texts())
    await alice.press("Submit")
    print(alice.texts())
    assert "Submitted" in alice.texts()
    (case,) = await bot.store.cases_of((await bot.store.ensure_account(alice_channel(), "alice")).id)
    assert case.state is CaseState.SUBMITTED


def alice_channel():  # type: ignore[no-untyped-def]
    from dialogs.domain import Channel

    return Channel.TERMINAL
