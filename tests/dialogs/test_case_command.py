"""``/case N`` and ``/offer N`` open a case for whoever may see it; lender staff see a case only once a
mediator approved it, however they ask (a command or a forged button).
"""

from __future__ import annotations

import pytest

from dialogs.messages import InboundKind
from tests.dialogs.harness import Bot, lender_staff
from tests.dialogs.test_negotiation import approved, in_review
from tests.dialogs.test_permissions import snapshot


async def test_a_mediator_opens_a_case_in_negotiation_that_is_in_no_queue(bot: Bot) -> None:
    _alice, olga, _leo = await approved(bot)
    await olga.send("/queue")
    assert "#1" not in olga.texts()
    await olga.send("/case 1")
    assert "Case #1" in olga.texts() and "[Message both]" in olga.texts(), olga.texts()


async def test_lender_staff_open_their_case_by_number(bot: Bot) -> None:
    _alice, _olga, leo = await approved(bot)
    await leo.send("/offer 1")
    assert "Pending offer (round 1, from borrower)" in leo.texts(), leo.texts()
    await leo.send("/case #1")  # the whole brief, then the negotiation a button away
    brief = leo.texts()
    assert "round 1, borrower, Nov 2, 17:30 Beijing time: Interest stopped" in brief, brief
    assert "waiting for an answer" in brief
    assert "Hardship: Lost my job" in brief and "[View and answer]" in brief


@pytest.mark.parametrize("ask", ["/case 1", "/offer 1", "0.g:open:1"])
async def test_lender_staff_cannot_see_a_case_before_the_mediator_approved_it(bot: Bot, ask: str) -> None:
    alice, olga = await in_review(bot)
    leo = await lender_staff(bot, olga)
    before = await snapshot(bot)
    kind = InboundKind.CHOICE if ask.startswith("0.") else InboundKind.COMMAND
    reply = "\n".join(m.text for m in await leo.deliver(leo.inbound(kind, ask)))
    # a command names what it cannot find (trial 1, item 19); a forged button gets the general refusal
    assert "There is no case 1 that you can see" in reply or "not something you can do here" in reply, reply
    assert "lost my job" not in reply.lower() and "张" not in reply
    assert await snapshot(bot) == before
    assert alice.received() == []


@pytest.mark.parametrize("argument", ["", "abc", "1.5", "9" * 40])
async def test_a_case_command_without_a_number_says_how(bot: Bot, argument: str) -> None:
    _alice, olga, _leo = await approved(bot)
    before = await snapshot(bot)
    await olga.send(f"/case {argument}".strip())
    assert "for example /case 12" in olga.texts(), olga.texts()
    assert await snapshot(bot) == before
