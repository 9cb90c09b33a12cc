"""The offer view lists every round of the negotiation: who proposed what, when, and the answer with its
time (trial 3, item 3: only the first round was shown; a rejected last round, and rounds before the last
four, were left out)."""

from __future__ import annotations

from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_negotiation import approved, counter


def _rounds(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• round")]


async def test_every_round_is_listed_with_who_when_and_the_answer(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await approved(bot)
    clock.advance(hours=2)
    await counter(leo, "Longer term, equal instalments", "12", "1500")  # round 2 counters round 1
    clock.advance(hours=3)
    await alice.press("View and answer")
    await alice.press("Reject")
    await alice.press("Skip")  # round 2 rejected: nothing waits for an answer now
    await alice.send("/offer")
    shown = alice.texts()
    assert "No offer is waiting for an answer." in shown and "Offers so far:" in shown, shown
    rounds = _rounds(shown)
    assert len(rounds) == 2, shown
    assert rounds[0].startswith("• round 1, borrower, Nov 2, 17:30 Beijing time: Interest stopped")
    assert rounds[0].endswith("– countered (Nov 2, 19:30 Beijing time)"), rounds[0]
    assert rounds[1].startswith("• round 2, lender, Nov 2, 19:30 Beijing time: Longer term, equal")
    assert "¥1,500.00 a month" in rounds[1]
    assert "– rejected (Nov 2, 22:30 Beijing time)" in rounds[1], rounds[1]
    # A third round waits: the two before it are listed under it, the waiting one above
    await alice.press("Make an offer")
    await alice.press("Interest stopped")
    await alice.send("12")
    await alice.send("1200")
    await alice.press("Send")
    await leo.send("/offer 1")
    shown = leo.texts()
    assert "Pending offer (round 3, from borrower)" in shown and "Earlier offers:" in shown, shown
    assert [r.split(",")[0] for r in _rounds(shown)] == ["• round 1", "• round 2"]
    # The mediator's case view lists them all too, with when each was answered
    await olga.send("/case 1")
    brief = _rounds(olga.texts())
    assert len(brief) == 3 and "– countered (" in brief[0] and "– rejected (" in brief[1], olga.texts()
