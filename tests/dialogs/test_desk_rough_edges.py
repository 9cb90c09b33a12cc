"""Rough edges a newcomer found in the mediator's and staff views: what a list shows matches what it says,
a submitted case offers its review wherever it is opened, names and words read right in both languages.
"""

from __future__ import annotations

from tests.dialogs.harness import Bot, Person, operator
from tests.dialogs.test_negotiation import in_review


async def test_a_case_asked_for_more_is_gone_from_the_queue_shown_next(bot: Bot) -> None:
    _alice, olga = await in_review(bot)
    await olga.press("Ask for more")
    await olga.send("Could you send your termination letter?")
    told = olga.texts()
    assert "leaves the queue" in told and "Nothing waits for review" in told, told
    assert "[#1" not in told, told


async def _report_harassment(alice: Person) -> None:
    await alice.send("/legal")
    await alice.press("Report harassment")
    await alice.send("Collector Wang, 13900001111")
    await alice.send("2026-11-20 22:30")
    await alice.press("Contacting my family")
    await alice.send("They called my mother at night.")
    await alice.press("Skip")
    assert "is recorded" in alice.texts(), alice.texts()


async def test_a_submitted_case_shows_its_reports_and_offers_its_review_wherever_it_is_opened(
    bot: Bot,
) -> None:
    alice, olga = await in_review(bot)
    await _report_harassment(alice)
    await olga.send("/queue")
    await olga.press("#1")
    view = olga.texts()
    assert "Harassment reports (1 open)" in view and "Collector Wang" in view, view
    assert "[Approve]" in view and "[Outcome of report #1]" in view, view

    await olga.send("/escalations")
    await olga.press("#1")
    view = olga.texts()
    assert "Collector Wang" in view, view
    for action in ("[Approve]", "[Reject (with a reason)]", "[Ask for more information]"):
        assert action in view, (action, view)
    await olga.press("Approve")
    assert "Case #1 approved" in olga.texts(), olga.texts()


async def test_the_menu_counts_what_the_escalations_list_shows(bot: Bot) -> None:
    _alice, olga = await in_review(bot)
    bob = bot.person("bob")
    await bob.send("/start")
    await bob.send("/help")
    await bob.press("Talk to a person")
    await bob.press("Send without a message")
    await olga.send("/menu")
    assert "[Escalations (1)]" in olga.texts(), olga.texts()  # bob's request; the case waits for review
    await olga.press("Escalations")
    listed = olga.texts()
    assert "No case needs mediation" in listed and "request 1" in listed, listed


async def test_a_lender_is_found_whatever_the_case_and_the_lenders_are_named_when_none_is(bot: Bot) -> None:
    olga = await operator(bot)
    await olga.send("/invite demo lender")
    assert "Invite for Demo Lender" in olga.texts(), olga.texts()
    await olga.send("/invite Nobody Ltd")
    told = olga.texts()
    assert "No lender is called 'Nobody Ltd'. Lenders: Demo Lender" in told, told
    assert "could not be done" not in told
    await olga.send("/cases approved nobody")
    assert "No lender is called 'nobody'. Lenders: Demo Lender." in olga.texts(), olga.texts()

    bob = bot.person("bob")
    await bob.send("/start")
    await bob.send("/invite Nobody Ltd")
    assert "Demo Lender" not in bob.texts(), bob.texts()  # the list is for mediators
