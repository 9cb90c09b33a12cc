"""A refused button answers in a line and the current choices, not the whole (often page-long) step."""

from __future__ import annotations

from bot.channels.terminal import plain
from dialogs.messages import InboundKind
from tests.dialogs.harness import Bot
from tests.dialogs.test_negotiation import in_review


async def test_a_stale_button_on_the_mediators_case_view_gets_a_short_reminder(bot: Bot) -> None:
    _, olga = await in_review(bot)
    view = olga.last[-1]
    assert len(plain(view.text).splitlines()) > 10  # the case as the mediator reviews it
    stale = olga.inbound(InboundKind.CHOICE, "999.approve")
    replies = await olga.deliver(stale)
    [reply] = replies
    assert plain(reply.text) == "That option is no longer available. Nothing was changed. The choices now:"
    assert [b.label for b in reply.buttons] == [b.label for b in view.buttons]
