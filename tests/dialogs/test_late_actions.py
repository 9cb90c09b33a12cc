"""Actions a case's state no longer allows are absent from the buttons and, when forced, refused with the
reason: confirming twice or too late, offers after both sides accepted, the last counter at the round limit.
"""

from __future__ import annotations

from dialogs.domain import Channel
from dialogs.lifecycle import CaseState
from dialogs.messages import InboundKind
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_negotiation import approved, counter


async def _state(bot: Bot) -> CaseState:
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    return (await bot.store.cases_of(account.id))[-1].state


async def _both_accept(leo: Person) -> None:
    await leo.press("View and answer")
    await leo.press("Accept")


async def test_no_new_offer_once_both_accepted_until_confirmed(bot: Bot) -> None:
    alice, _olga, leo = await approved(bot)
    await _both_accept(leo)
    for person in (leo, alice):
        await person.send("/offer")
        view = person.texts()
        assert "[Confirm this agreement]" in view, view
        assert "[Make an offer]" not in view and "[Propose a blind bid]" not in view, view


async def test_an_old_confirm_button_after_agreement_says_it_is_agreed(bot: Bot) -> None:
    alice, _olga, leo = await approved(bot)
    await _both_accept(leo)
    old_button = leo.button("Confirm this agreement")
    await leo.press("Confirm this agreement")
    await alice.press("Confirm this agreement")
    assert await _state(bot) is CaseState.ACTIVE
    await leo.deliver(leo.inbound(InboundKind.CHOICE, old_button))
    answer = leo.texts()
    assert "already agreed" in answer and "Sorry" not in answer, answer
    await leo.deliver(leo.inbound(InboundKind.CHOICE, old_button))
    assert "already agreed" in leo.texts()


async def test_confirming_twice_says_we_wait_for_the_other_side(bot: Bot) -> None:
    _alice, _olga, leo = await approved(bot)
    await _both_accept(leo)
    button = leo.button("Confirm this agreement")
    await leo.press("Confirm this agreement")
    await leo.deliver(leo.inbound(InboundKind.CHOICE, button))
    assert "waiting for the other side" in leo.texts() and "Sorry" not in leo.texts()


async def test_the_last_counter_at_the_round_limit_reaches_the_mediator(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await counter(leo, "Longer term, equal instalments", "12", "1500")
    await counter(alice, "Interest stopped", "12", "1200")
    await counter(leo, "Longer term, equal instalments", "12", "1490")
    alice.received()
    await alice.press("View and answer")
    await alice.press("Counter-offer")
    await alice.press("Interest stopped")
    await alice.send("12")
    await alice.send("1250")
    await alice.press("Send")
    assert "has gone to a mediator" in alice.texts() and "Your last offer is kept" in alice.texts()
    assert await _state(bot) is CaseState.ESCALATED
    await olga.press("Open case 1")
    view = olga.texts()
    assert "round 5, borrower" in view and "1,250.00" in view, view
