"""Fair and honest plans, and legal information that is exact (issue 10), as the people concerned see it:
plans at no more than the protected rate, a list whose letters never collide with numbered buttons, own
terms asked within the kind's limit, the rule for the lender's kind on /legal, and a lender's offer above the
protected level shown to the borrower with the excess in money.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import update

import dialogs
from bot.demo import BOOK, LENDER
from dialogs.loanbook import parse_loan_book
from dialogs.rules.affordability import Finances
from dialogs.rules.interest import DEFAULT_LPR_HISTORY_TEXT, InterestLaw, LenderKind, LprHistory
from dialogs.rules.plans import Balance, PlanKind, option_for, validate_proposal
from storage import models
from templates import TEMPLATE_DIR
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_navigation import reach
from tests.dialogs.test_negotiation import approved

D = Decimal
BUDGET = Finances(net_monthly_income=D("6500.00"), housing=D("1800.00"), food=D("1200.00"))
PROTECTED = Decimal("0.1380")  # 4 × the LPR of 3.45 % in force when the demo loan was made (2024-03-15)
# Income 3,000 with essentials of 3,000: nothing is left for any plan.
NOTHING_LEFT = ("3000", "1800", "1200", "0", "0", "0", "0", "0", "0", "0")


async def _options(person: Person, bot: Bot, figures: tuple[str, ...] | None = None) -> str:
    if figures is None:
        await reach(person, bot, "plans:options")
    else:
        await reach(person, bot, "finances:net_monthly_income")
        for amount in figures:
            await person.send(amount)
        await person.press("Yes")
    return person.texts()


async def _licensed_demo_loan(bot: Bot) -> None:
    """The demo loan book again, now saying a microloan company funded the demo loan (the optional column)."""
    header, *rows = BOOK.strip().splitlines()
    book = "\n".join([header + ",lender_kind", rows[0] + ",microloan", rows[1] + ","])
    await bot.store.import_loan_book(LENDER, parse_loan_book(book))


async def _in_chinese(bot: Bot, user: str) -> None:
    async with bot.store.unit() as session:
        await session.execute(
            update(models.Account).where(models.Account.channel_user_id == user).values(locale="zh_CN")
        )


async def test_the_demo_plans_say_their_rate_and_none_is_above_the_protected_level(bot: Bot) -> None:
    alice = bot.person("alice")
    text = await _options(alice, bot)
    assert (
        "Your contract charges 24.00% a year, but the law protects interest only up to 13.80% a year" in text
    )
    assert "four times the one-year LPR of 3.45%" in text
    assert "So no plan here charges more than 13.80% a year." in text
    rates = [Decimal(rate) / 100 for rate in re.findall(r"interest (\d+\.\d+)% a year", text)]
    assert rates and max(rates) <= PROTECTED
    assert "13.80% a year" in text and "interest 24.00% a year" not in text
    # 等额本金 says its first and its last instalment, not the first as every month.
    assert re.search(r"the first month, falling each month to ¥[\d,.]+ the last", text)
    assert "no interest is added" in text  # the holiday says nothing accrues in the pause
    assert '"Waived" is what you would no longer have to pay' in text


async def test_nothing_affordable_lists_plans_by_letter_beside_numbered_buttons(bot: Bot) -> None:
    alice = bot.person("alice")
    await _options(alice, bot, NOTHING_LEFT)
    screen = alice.last[-1]
    assert [b.label for b in screen.buttons] == ["Ask a mediator to help", "Propose my own terms"]
    text = alice.texts()
    assert "none of the usual plans fits your budget" in text or "nothing is left of your income" in text
    # The terminal shows the buttons as "1) …", "2) …": no line of the text may be numbered like them.
    assert not [line for line in text.splitlines() if re.match(r"\s*\d+\s*[.)、]", line)], text
    assert re.search(r"(?m)^A\. ", text) and re.search(r"(?m)^B\. ", text)


async def test_own_terms_ask_months_within_the_kinds_limit(bot: Bot) -> None:
    alice = bot.person("alice")
    await _options(alice, bot)
    await alice.press("Propose my own terms")
    await alice.press("Interest stopped")
    assert "Over how many months (1 to 60)?" in alice.texts()
    await alice.send("61")
    assert "from 1 to 60" in alice.texts() or "1 to 60" in alice.texts()
    await alice.send("60")
    assert "How much" in alice.texts()


async def test_the_amount_the_list_shows_is_accepted_as_own_terms(bot: Bot) -> None:
    alice = bot.person("alice")
    text = await _options(alice, bot)
    line = next(line for line in text.splitlines() if "Interest stopped" in line and "a month for" in line)
    monthly, months = re.search(r"¥([\d,]+\.\d\d) a month for (\d+) months", line).groups()  # type: ignore[union-attr]
    await alice.press("Propose my own terms")
    await alice.press("Interest stopped")
    await alice.send(months)
    await alice.send(monthly.replace(",", ""))
    assert "Your proposal:" in alice.texts(), alice.texts()


async def test_legal_names_the_private_lending_rule_in_both_languages(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("real interest rate")
    text = alice.texts()
    assert "Your lender is a private lender, so the private-lending rules apply" in text
    assert "24.00% simple (the monthly rate × 12, the figure the law compares), 26.82% compound" in text
    assert re.search(r"about ¥[\d,]+\.\d\d of its interest is above what is protected", text)
    await _in_chinese(bot, "alice")
    await alice.send("/legal")
    await alice.press("我的贷款实际利率")
    text = alice.texts()
    assert "您的贷款机构属于民间借贷，适用民间借贷的规定" in text
    assert "一年期 LPR 3.45% 的四倍" in text and "单利 24.00%" in text and "复利 26.82%" in text


async def test_legal_names_the_licensed_lenders_rule_in_both_languages(bot: Bot) -> None:
    await _licensed_demo_loan(bot)
    alice = bot.person("alice")
    await reach(alice, bot, "hardship:reason")
    await alice.send("/legal")
    await alice.press("real interest rate")
    text = alice.texts()
    assert "Your lender is a licensed institution (microloan company)" in text
    assert "the private-lending rules (four times the LPR) do not apply to it" in text
    assert "to 24.00% a year (the Supreme People's Court's 2017 opinion on financial trials" in text
    assert "within the protected level" in text and "13.80%" not in text
    await _in_chinese(bot, "alice")
    await alice.send("/legal")
    await alice.press("我的贷款实际利率")
    text = alice.texts()
    assert "您的贷款机构是持牌金融机构（小额贷款公司），不适用民间借贷“LPR 四倍”的规定" in text
    assert "不超过年利率 24.00%" in text and "法发〔2017〕22号" in text


async def test_a_licensed_lenders_plans_are_held_to_its_own_level(bot: Bot) -> None:
    await _licensed_demo_loan(bot)
    text = await _options(bot.person("alice"), bot)
    assert "Your contract rate of 24.00% a year is within the level the law protects (24.00% a year" in text
    assert "the total cost of borrowing licensed lenders are held to" in text


async def test_a_lender_offer_above_the_level_shows_the_borrower_the_excess(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    kind = PlanKind.TERM_EXTENSION_EQUAL_INSTALMENT
    balance = Balance(D("14321.55"), D("1020.40"), D("380.00"), D("120.00"), D("0.24"))
    at_contract = option_for(balance, kind, 12, finances=BUDGET)
    law = InterestLaw(LprHistory.parse(DEFAULT_LPR_HISTORY_TEXT))
    protected = law.protected(LenderKind.PRIVATE, date(2024, 3, 15)).rate
    capped = replace(balance, protected_rate=protected, overdue_days=45)  # the demo loan is 45 days late
    offer = validate_proposal(capped, kind, 12, at_contract.monthly_amount, finances=BUDGET, lender=True)
    assert offer.above_protected > 0
    await leo.press("View and answer")
    await leo.press("Counter-offer")
    await leo.press("Longer term, equal instalments")
    await leo.press("Months and monthly amount")
    await leo.send("12")
    await leo.send(str(at_contract.monthly_amount))
    await leo.press("Send")
    assert "Offer sent" in leo.texts(), leo.texts()
    told = "\n".join(m.text for m in alice.received())
    excess = f"¥{offer.above_protected:,.2f}"
    assert f"⚠ This offer asks {excess} more than the same plan at the interest rate the law protects" in told
    await alice.press("Open case 1")
    assert f"{excess} more than the same plan" in alice.texts()
    assert "You do not have to accept it." in alice.texts()


# Staff's own screens offer nobody a person.
STAFF_SCREENS = ("desk/", "mediate/", "review/", "staff/", "status/staff")


def _said_with_the_button() -> set[str]:
    """Templates the code says together with the "Talk to a person" button (ASK_OPERATOR, ASK_FOR_HELP, or
    the help choices a stuck question gets: ``stuck_help``, ``help_choices``, or ``below=True`` when they join
    the question's own buttons)."""
    said = re.compile(
        r'("[a-z_]+/[a-z_]+"|[A-Z_]+),(?:\s*[A-Z_]+,)*\s*(?:ASK_OPERATOR|ASK_FOR_HELP|\*ctx\.stuck_help|\*help_choices|below=True)\b'
    )
    # A template the code names once, as a constant (DISPUTE_NOTICE = "payments/disputed").
    named = re.compile(r'^([A-Z_]+) = "([a-z_]+/[a-z_]+)"', re.MULTILINE)
    found = set()
    for path in Path(dialogs.__file__).parent.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        constants = dict(named.findall(source))
        found |= {constants.get(name, name).strip('"') for name in said.findall(source)}
    return found


def test_talk_to_a_person_is_only_offered_with_a_way_to_do_it() -> None:
    # An offer, not a mention ("your requests to talk to a person" in what /delete erased).
    with_button = _said_with_the_button()
    assert {"errors/unexpected", "help/commands"} <= with_button  # the scan finds them
    offered = re.compile(r"(?<!requests to )talk to a person|talk_to_person|联系真人调解员", re.IGNORECASE)
    for locale in ("en", "zh_CN"):
        for path in sorted((TEMPLATE_DIR / locale).rglob("*.j2")):
            name = str(path.relative_to(TEMPLATE_DIR / locale).with_suffix(""))
            text = path.read_text(encoding="utf-8")
            staff = name.startswith(STAFF_SCREENS)
            if name == "labels" or name in with_button or staff or not offered.search(text):
                continue
            assert "/help" in text, f"{locale}/{name} offers a person with no button and no /help"


async def test_a_loan_is_bound_by_its_funders_kind_else_its_lenders(bot: Bot) -> None:
    lender = await bot.store.add_lender("Small Loans Co", kind=LenderKind.MICROLOAN)
    assert lender.kind is LenderKind.MICROLOAN
    assert (await bot.store.lender_by_name(LENDER)).kind is LenderKind.PRIVATE  # the default, the stricter
    header, *rows = BOOK.strip().splitlines()
    book = "\n".join([header + ",lender_kind", rows[0] + ",", rows[1] + ",bank"])
    await bot.store.import_loan_book("Small Loans Co", parse_loan_book(book))
    found = {
        ref: (await bot.store.find_loans(loan_ref=ref, lender_id=lender.id))[0]
        for ref in ("DEMO-0001", "DEMO-0002")
    }
    assert found["DEMO-0001"].lender_kind is LenderKind.MICROLOAN  # no funder named: the lender's kind
    assert found["DEMO-0001"].row.lender_kind is None
    assert found["DEMO-0002"].lender_kind is LenderKind.BANK
    assert (await bot.store.loan(found["DEMO-0002"].id)).lender_kind is LenderKind.BANK
