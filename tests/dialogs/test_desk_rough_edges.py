"""Rough edges a newcomer found in the mediator's and staff views: what a list shows matches what it says,
a submitted case offers its review wherever it is opened, names and words read right in both languages.
"""

from __future__ import annotations

from tests.dialogs.harness import Bot
from tests.dialogs.test_negotiation import in_review


async def test_a_case_asked_for_more_is_gone_from_the_queue_shown_next(bot: Bot) -> None:
    _alice, olga = await in_review(bot)
    await olga.press("Ask for more")
    await olga.send("Could you send your termination letter?")
    told = olga.texts()
    assert "leaves the queue" in told and "Nothing waits for review" in told, told
    assert "[#1" not in told, told
