"""The lender's /cases: every case of their lender since approval, ended ones with why they ended."""

from __future__ import annotations

from tests.dialogs.harness import Bot, submit_application
from tests.dialogs.test_negotiation import approved


async def test_a_case_the_borrower_erased_stays_on_the_list_as_withdrawn(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await alice.send("/delete")
    await alice.press("Yes, erase my data")
    await leo.send("/cases")
    assert "#1 – withdrawn: withdrawn by the borrower, who asked for their data to be erased" in leo.texts()
    await leo.press("#1")
    assert "Case #1 – withdrawn" in leo.texts()  # it still opens


async def test_a_closed_case_shows_the_mediators_reason_and_a_case_never_approved_is_absent(
    bot: Bot,
) -> None:
    _, olga, leo = await approved(bot)
    await olga.send("/case 1")
    await olga.press("Close the case")
    await olga.send("The borrower repaid through the court settlement.")
    bob = bot.person("bob")
    await submit_application(bob, bot)  # submitted, never approved: not the lender's to see
    await leo.send("/cases")
    listed = leo.texts()
    assert "Your lender's cases (1), latest first" in listed
    assert (
        '#1 – closed: closed by the mediator – "The borrower repaid through the court settlement."' in listed
    )
    assert "#2" not in listed


async def test_a_running_case_is_listed_with_its_state_alone(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await leo.send("/cases")
    line = next(line for line in leo.texts().splitlines() if line.startswith("• #1"))
    assert line == "• #1 – approved, waiting for the lender's answer"
