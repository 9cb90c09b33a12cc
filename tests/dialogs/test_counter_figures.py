"""A counter-offer asks only the figures that can vary for its kind of plan, asks kindly when a total looks
like a monthly amount, and "Change" on its check screen keeps every figure and changes one (trial 3,
item 1: a 停息挂账 counter asked the lender staff for a total that only has one possible value, a monthly
figure typed as the total was refused in monthly words, and "Change" lost everything typed)."""

from __future__ import annotations

from decimal import Decimal

from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_lender_counter import _last_offer
from tests.dialogs.test_navigation import where
from tests.dialogs.test_negotiation import approved

INTEREST_STOPPED = "Interest stopped"
EQUAL = "Longer term, equal instalments"
# Every kind a lender may offer in instalments (a settlement is its one amount, asked alone).
INTEREST_BEARING = (
    EQUAL,
    "Longer term, equal principal",
    "Penalties and fees waived",
    "Part of the interest",
)


async def _start(leo: Person, kind: str) -> str:
    await leo.send("/offer 1")
    await leo.press("Counter-offer")
    await leo.press(kind)
    return leo.texts()


def _buttons(person: Person) -> list[str]:
    return [button.label for message in person.last for button in message.buttons]


async def test_interest_stopped_never_asks_a_total_and_a_monthly_amount_gives_the_months(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    asked = await _start(leo, INTEREST_STOPPED)
    assert "repays ¥14,321.55 in total, whatever the term, so the total is not asked" in asked, asked
    assert "¥243.66 of what is owed is waived: that comes with the kind" in asked
    assert not [label for label in _buttons(leo) if "total" in label or "waived" in label], _buttons(leo)
    await leo.press("Monthly amount (the months follow)")
    assert "The months follow from it; the last instalment may be smaller." in leo.texts()
    await leo.send("500")
    summary = leo.texts()
    line = "¥500.00 a month for 29 months (the last ¥321.55), ¥14,321.55 in total, ¥243.66 waived"
    assert line in summary, summary
    await leo.press("Send")
    offer = await _last_offer(bot)
    assert (offer.months, offer.total_repaid) == (29, Decimal("14321.55"))
    assert offer.terms["amounts"][-2:] == ["500.00", "321.55"]
    # The borrower reads the smaller last instalment in the notice and in the offer's view
    assert line in "\n".join(m.text for m in alice.received())
    await alice.press("View and answer")
    assert line in alice.texts(), alice.texts()


async def test_interest_stopped_by_months_alone_is_the_kinds_own_plan(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await _start(leo, INTEREST_STOPPED)
    await leo.press("Number of months")
    await leo.send("61")  # 停息挂账 runs at most 60 months: said before anything is worked out
    assert "from 1 to 60" in leo.texts(), leo.texts()
    await leo.send("12")
    assert "¥1,193.46 a month for 12 months (the last ¥1,193.49), ¥14,321.55 in total" in leo.texts()


async def test_every_interest_bearing_kind_asks_two_of_months_monthly_and_total_never_a_waiver(
    bot: Bot,
) -> None:
    _, _, leo = await approved(bot)
    for kind in INTEREST_BEARING:
        asked = await _start(leo, kind)
        assert "Which two figures do you want to set? The third follows from them." in asked, (kind, asked)
        assert _buttons(leo) == [
            "Months and monthly amount",
            "Months and total to repay",
            "Monthly amount and total to repay",
            "Back",
        ], kind
    asked = await _start(leo, "Part of the interest")
    assert "¥121.83 of what is owed is waived" in asked  # the kind's own waiver, said, not asked


async def test_a_monthly_figure_typed_as_the_total_is_asked_about_kindly(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await _start(leo, EQUAL)
    await leo.press("Months and total to repay")
    await leo.send("12")
    asked = leo.texts()
    assert "Over 12 months this plan repays at least ¥15,658.18" in asked and "at most ¥17,771.26" in asked
    assert "(e.g. 15700)" in asked
    await leo.send("1450")
    question = leo.texts()
    assert "You typed ¥1,450.00 as the total to repay over 12 months" in question, question
    assert "Did you mean ¥1,450.00 a month?" in question
    assert "It needs about" not in question  # not refused in monthly words
    await leo.press("No, I will type the total again")
    assert await where(bot, "leo") == "negotiate:counter_total"
    assert "Keep" not in leo.texts()  # the figure it did not take is not offered back
    await leo.send("1450")
    await leo.press("Yes, ¥1,450.00 a month")
    assert "¥1,450.00 a month for 12 months, ¥17,400.00 in total" in leo.texts(), leo.texts()


async def test_a_total_far_below_any_monthly_amount_is_refused_as_a_total(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await _start(leo, EQUAL)
    await leo.press("Months and total to repay")
    await leo.send("12")
    await leo.send("800")  # neither a total nor a monthly amount this plan can take
    refused = leo.texts()
    assert "¥800.00 in total is less than this plan repays over 12 months: at least ¥15,658.18" in refused
    assert await where(bot, "leo") == "negotiate:counter_total"


async def test_change_keeps_every_figure_and_changes_one(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await _start(leo, EQUAL)
    await leo.press("Months and total to repay")
    await leo.send("12")
    await leo.send("17400")
    await leo.press("Change")
    assert _buttons(leo) == [
        "The kind of plan (Longer term, equal instalments (等额本息))",
        "Which figures to set",
        "Months (12)",
        "Total to repay (¥17,400.00)",
        "Nothing: back to the offer",
    ]
    await leo.press("Total to repay")
    assert "Keep ¥17,400.00" in leo.texts()
    await leo.send("17100")  # the months stay 12
    changed = leo.texts()
    assert "¥1,425.00 a month for 12 months, ¥17,100.00 in total" in changed, changed
    await leo.press("Change")
    await leo.press("Months (12)")
    await leo.send("99999")  # refused: the months asked again, the 12 still there to keep
    assert "Keep 12 months" in leo.texts()
    await leo.press("Keep 12 months")
    assert "¥17,100.00 in total" in leo.texts()
    await leo.press("Change")
    await leo.press("Nothing: back to the offer")
    await leo.press("Send")
    offer = await _last_offer(bot)
    assert (offer.months, offer.total_repaid) == (12, Decimal("17100.00"))


async def test_the_borrower_changes_the_kind_and_keeps_the_figures(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await leo.send("/offer 1")
    await leo.press("Counter-offer")
    await leo.press(EQUAL)
    await leo.press("Months and monthly amount")
    await leo.send("12")
    await leo.send("1500")
    await leo.press("Send")
    await alice.press("View and answer")
    await alice.press("Counter-offer")
    await alice.press(EQUAL)
    await alice.send("12")
    await alice.send("1310")
    await alice.press("Change")
    await alice.press("The kind of plan")
    await alice.press(INTEREST_STOPPED)
    await alice.press("Keep 12 months")
    await alice.send("1200")
    assert "¥1,200.00 a month for 12 months (the last ¥1,121.55), ¥14,321.55 in total" in alice.texts()
    await alice.press("Change")
    await alice.press("The kind of plan")
    await alice.press(INTEREST_STOPPED)  # the same kind again: nothing asked, the same offer back
    assert "¥1,200.00 a month for 12 months (the last ¥1,121.55)" in alice.texts(), alice.texts()


async def test_a_total_below_the_monthly_amounts_plan_names_the_monthly_amount_set(bot: Bot) -> None:
    _, _, leo = await approved(bot)
    await _start(leo, EQUAL)
    await leo.press("Monthly amount and total to repay")
    await leo.send("1450")
    await leo.send("1450")  # the monthly amount again, where the total is asked
    refused = leo.texts()
    assert "¥1,450.00 in total is less than this plan repays over 1 month: at least ¥14,729.91" in refused
    assert "You set ¥1,450.00 a month already; the total is what the borrower repays" in refused, refused
    assert await where(bot, "leo") == "negotiate:counter_total"
