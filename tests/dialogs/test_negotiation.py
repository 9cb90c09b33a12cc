"""Several people on one case, through the engine: the mediator reviews, the lender answers, offers go back
and forth, both confirm the agreement; and the paths that end elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.channels.terminal import plain
from dialogs import deadlines
from dialogs.domain import Channel
from dialogs.lifecycle import CaseState
from dialogs.messages import InboundKind
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person, lender_staff, operator, submit_application
from tests.dialogs.test_navigation import reach


async def _case_state(bot: Bot, user: str = "alice") -> CaseState:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    return (await bot.store.cases_of(account.id))[-1].state


def _all(person: Person) -> str:
    """Everything this person has been sent so far, as plain text."""
    return "\n".join(plain(m.text) for m in person.bot.recorder.inbox[person.user])


async def approved(bot: Bot) -> tuple[Person, Person, Person]:
    alice, olga = await in_review(bot)
    review = olga.texts()
    assert "Borrower: 张*, ID 110***********1239" in review and "110105199003071239" not in review
    assert "Risk: grade B (30 points)" in review and "compound 26.82%" in review
    leo = await lender_staff(bot, olga)
    await olga.press("Approve")
    assert "Case #1 approved" in olga.texts()
    assert "sent it to the lender" in alice.received()[0].text
    notice = "\n".join(m.text for m in leo.received())
    assert "New application, case #1" in notice and "Risk grade: B" in notice and "Please answer by" in notice
    return alice, olga, leo


async def in_review(bot: Bot) -> tuple[Person, Person]:
    """A submitted application, open in front of the mediator."""
    alice = bot.person("alice")
    await submit_application(alice, bot)
    olga = await operator(bot)
    await olga.send("/queue")
    await olga.press("#1")
    return alice, olga


async def counter(
    person: Person,
    kind: str,
    months: str,
    amount: str,
    *,
    opener: str = "View and answer",
    action: str = "Counter-offer",
) -> None:
    person.received()
    await person.press(opener)
    await person.press(action)
    await person.press(kind)
    if "Months and monthly amount" in person.texts():  # a lender: the figures that vary for the kind
        await person.press("Months and monthly amount")
    await person.send(months)
    await person.send(amount)
    await person.press("Send")
    assert "Offer sent" in person.texts(), person.texts()


async def test_counter_offers_until_agreement(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await leo.press("View and answer")
    assert "Pending offer (round 1, from borrower)" in leo.texts()
    await leo.press("Counter-offer")
    await leo.press("Longer term, equal instalments")
    await leo.press("Months and monthly amount")
    await leo.send("12")
    await leo.send("1300")
    # At the protected 13.80 %, not 24 %, and with the overdue charges held to their legal limit
    # (¥243.66 of ¥1,520.40: 14,321.55 × 13.80 % × 45 / 365), spread over the 12 months.
    assert "It needs about ¥1,304.84 a month" in leo.texts()
    await leo.send("1500")
    assert "Your offer:" in leo.texts()
    await leo.press("Send")
    assert "Offer sent on case 1" in leo.texts()
    assert await _case_state(bot) is CaseState.NEGOTIATING

    assert "New offer from the lender on case 1" in alice.received()[0].text
    await alice.press("View and answer")
    assert "✗ It is above what your budget can carry." in alice.texts()  # shown, with what it means
    await counter(alice, "Interest stopped", "12", "1200")

    await leo.press("View and answer")
    assert "round 3, from borrower" in leo.texts()
    await leo.press("Accept")
    assert "Please read the agreement (version 1" in leo.texts()
    document = next(m for m in leo.last if m.file_name)
    assert document.file_name == "agreement-1-v1.txt" and "REPAYMENT AGREEMENT" in document.text
    assert "Content hash (SHA-256)" in document.text and "110***********1239" in document.text
    assert (
        "\n12. November 2, 2027 – ¥" in document.text and "\n13. " not in document.text
    )  # the full schedule, one line per instalment

    alice.received()
    await alice.press("Confirm this agreement")
    assert "waiting for the other side" in alice.texts()
    await leo.press("Confirm this agreement")
    assert "Agreed: both sides confirmed version 1" in leo.texts()
    assert await _case_state(bot) is CaseState.ACTIVE
    await alice.send("/agreement")
    assert any(m.file_name == "agreement-1-v1.txt" for m in alice.last)
    await alice.send("/status")
    assert "plan running" in alice.texts()


async def test_rejection_reason_reaches_the_borrower(bot: Bot) -> None:
    alice, olga = await in_review(bot)
    await olga.press("Reject")
    await olga.send("The loan was repaid in full last week.")
    assert "rejected" in olga.texts()
    told = alice.received()[0].text
    assert "was not accepted" in told and "The loan was repaid in full last week." in told
    assert await _case_state(bot) is CaseState.REJECTED


async def test_asking_for_more_takes_the_case_out_of_the_queue_until_answered(bot: Bot) -> None:
    alice, olga = await in_review(bot)
    await olga.press("Ask for more")
    await olga.send("Could you send your termination letter?")
    assert "leaves the queue" in olga.texts()
    await olga.send("/queue")
    assert "Nothing waits for review" in olga.texts()

    assert "Could you send your termination letter?" in alice.received()[0].text
    await alice.press("Answer")
    await alice.send("I will bring it to the lender's office; the company closed on 3 October.")
    assert "back with the mediator" in alice.texts()
    assert "answered the question on case #1" in olga.received()[0].text
    await olga.send("/queue")
    await olga.press("#1")
    assert "the company closed on 3 October" in olga.texts()
    assert await _case_state(bot) is CaseState.SUBMITTED


async def test_a_lender_who_does_not_answer_leaves_the_case_expired_for_a_mediator(
    bot: Bot, clock: FakeClock
) -> None:
    alice, olga, leo = await approved(bot)
    clock.advance(hours=71)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 0
    clock.advance(hours=2)
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 1
    await bot.app.delivery.drain()
    assert await _case_state(bot) is CaseState.EXPIRED
    assert "did not answer case 1 in time" in alice.received()[0].text
    assert "did not answer case 1 in time" in leo.received()[0].text
    assert "the lender did not answer in time" in olga.received()[0].text
    assert await deadlines.sweep(bot.app.engine, bot.store, clock.now()) == 0  # handled once

    await olga.press("Open case 1")
    await olga.press("Extend the deadline")
    await olga.send("48")
    assert "the deadline is now" in olga.texts()
    assert await _case_state(bot) is CaseState.NEGOTIATING
    assert "extended the deadline on case 1" in leo.received()[-1].text


async def test_round_limit_then_the_mediator_splits_the_difference(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)  # round 1: the borrower's own plan
    await counter(leo, "Longer term, equal instalments", "12", "1500")  # round 2
    await counter(alice, "Interest stopped", "12", "1200")  # round 3
    await counter(leo, "Longer term, equal instalments", "12", "1490")  # round 4
    alice.received()
    await alice.press("View and answer")
    await alice.press("Counter-offer")
    await alice.press("Interest stopped")
    await alice.send("12")
    await alice.send("1250")
    await alice.press("Send")
    assert "has gone to a mediator (the round limit was reached" in alice.texts()
    assert await _case_state(bot) is CaseState.ESCALATED
    assert "needs a mediator: the round limit" in olga.received()[-1].text

    await olga.press("Open case 1")
    assert "round 4, lender" in olga.texts()
    await olga.press("Split the difference")
    proposal = olga.texts()
    assert "→ Mediator's proposal, equal instalments: ¥1,337.21 a month for 12 months" in proposal, proposal
    assert "✗ It is above the borrower's budget: ¥1,025.00 a month is affordable, ¥312.21 less" in proposal
    await olga.press("Send")
    assert "Proposed to both sides" in olga.texts()
    assert await _case_state(bot) is CaseState.NEGOTIATING

    assert "to split the difference" in alice.received()[-1].text
    await alice.press("Open case 1")
    await alice.press("Accept")
    assert "still needs to accept" in alice.texts()
    assert "accepted the mediator's proposal" in leo.received()[-1].text
    await leo.press("Open case 1")
    await leo.press("Accept")
    await leo.press("Confirm this agreement")
    alice.received()
    await alice.press("Confirm this agreement")
    assert "Agreed" in alice.texts()
    assert await _case_state(bot) is CaseState.ACTIVE


async def test_blind_bid_bounds_never_reach_the_other_side(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await alice.press("Open case 1")
    await alice.press("Propose a blind bid")
    await alice.send("8500")
    assert "more than that" in alice.texts()  # above her savings: asked before it counts
    await alice.press("Yes, I can pay it")
    assert "kept private" in alice.texts()
    await leo.press("Open case 1")
    await leo.press("Give my private figure")
    await leo.send("9000")
    assert "found no overlap." in leo.texts()  # the first round gives no hint
    assert "found no overlap." in alice.received()[-1].text

    await alice.press("Open case 1")
    await alice.press("Propose a blind bid")
    await alice.send("9100")
    await alice.press("Yes, I can pay it")
    await leo.press("Open case 1")
    await leo.press("Give my private figure")
    await leo.send("8900")
    assert "settles at ¥9,000.00 in one payment" in leo.texts()
    assert "settles at ¥9,000.00 in one payment" in "\n".join(m.text for m in alice.received())

    for bound in ("9,100", "9100", "8,900", "8900"):
        assert bound not in _all(leo) if bound.startswith("9") else bound not in _all(alice)
    for bound in ("8,500", "8500"):
        assert bound not in _all(leo)
    assert "9,000" not in _all(olga)
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    (case,) = await bot.store.cases_of(account.id)
    logged = str([(e.kind, e.details) for e in await bot.store.events(case.id)])
    for bound in ("8500", "9000.00", "9100", "8900"):
        assert bound not in logged or bound == "9000.00"  # the settlement itself is no secret
    await alice.send("/status")
    assert "9,100" not in alice.texts() and "8,900" not in alice.texts()


async def test_confirming_an_older_version_is_refused(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await counter(leo, "Longer term, equal instalments", "12", "1500")
    await alice.press("View and answer")
    await alice.press("Accept")
    old = alice.button("Confirm this agreement")
    # Before anyone confirms, the mediator reopens the terms: both accepted terms change only that way.
    await olga.send("/case 1")
    await olga.press("Split the difference")
    await olga.press("Send")
    await alice.press("Open case 1")
    await alice.press("Accept")
    await leo.press("Open case 1")
    await leo.press("Accept")
    assert "version 2" in leo.texts()
    await alice.deliver(alice.inbound(InboundKind.CHOICE, old))
    assert "was for version 1, but the terms have changed: version 2" in alice.texts()
    await alice.press("Confirm this agreement")
    assert "waiting for the other side" in alice.texts()


async def test_lender_words_at_night_wait_for_the_morning(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await approved(bot)
    clock.current = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    await leo.press("View and answer")
    await leo.press("Write to the other side")
    await leo.send("Please call our office tomorrow.")
    assert "will be delivered at Nov 3, 08:00 Beijing time, the borrower's morning" in leo.texts()
    assert alice.received() == []
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()
    assert alice.received() == []
    clock.current = datetime(2026, 11, 3, 0, 1, tzinfo=UTC)  # 08:01 in Shanghai
    assert await bot.app.delivery.release_due() == 1
    await bot.app.delivery.drain()
    relayed = alice.received()
    assert "from the lender (their own words)" in relayed[0].text
    assert "Please call our office tomorrow." in relayed[0].text

    await alice.press("Report as harassment")
    assert "reported as harassment" in alice.texts()
    assert "reported a message from the lender" in olga.received()[-1].text
    clock.current = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)  # 23:00: the borrower's words go at once
    await alice.press("Offers and negotiation")
    await alice.press("Write to the other side")
    await alice.send("I will call at 10.")
    assert "I will call at 10." in leo.received()[-1].text


async def test_the_lender_rejects_with_a_reason_and_the_borrower_answers(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Reject")
    await leo.send("We cannot stop the interest for a customer in M2.")
    assert "You rejected the offer on case 1" in leo.texts()
    told = alice.received()[-1].text
    assert "The lender rejected the offer on case 1." in told
    assert "We cannot stop the interest for a customer in M2." in told
    assert await _case_state(bot) is CaseState.NEGOTIATING
    await counter(
        # 24 months at the protected 13.80 %, overdue charges held to their legal limit (¥243.66), need
        # ¥696.42 a month (¥16,714.04 in all); from ¥726.70 the 24th month would not be needed.
        alice,
        "Longer term, equal instalments",
        "24",
        "700",
        opener="Open case 1",
        action="Make an offer",
    )
    assert "New offer from the borrower" in leo.received()[-1].text


async def test_the_borrower_rejects_a_counter_with_a_reason_the_lender_reads(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await counter(leo, "Longer term, equal instalments", "24", "800")
    await alice.press("Open case 1")
    await alice.press("Reject")
    await alice.send("I can only pay about 700 a month.")
    assert "not something you can do here" not in alice.texts(), alice.texts()
    assert "You rejected the offer on case 1" in alice.texts()
    told = leo.received()[-1].text
    assert "rejected the offer on case 1" in told and "I can only pay about 700 a month." in told
    assert await _case_state(bot) is CaseState.NEGOTIATING


async def test_the_mediator_writes_to_both_and_closes_a_case(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Write to the other side")
    await leo.send("Pay now or we call your employer.")
    await alice.press("Report as harassment")
    await olga.send("/escalations")
    assert "1 case needs a mediator" in olga.texts()  # a harassment report brings the case here
    await olga.press("#1")
    assert "Pay now or we call your employer." in olga.texts()
    assert (
        "Harassment reports (1 open)" in olga.texts() and "a message from the lender's side" in olga.texts()
    )
    await olga.press("Message both")
    await olga.send("Contacting an employer is not allowed. Let us keep to the offers.")
    assert "Sent to 2 people" in olga.texts()
    assert "Message from the mediator about case 1" in alice.received()[-1].text
    await olga.press("Outcome of report #1")
    await olga.press("Upheld")
    await olga.send("Called the lender's team lead; the collector is off this account.")
    assert "Report #1: Upheld – recorded" in olga.texts()
    assert "Harassment reports" not in olga.texts()
    assert "found it justified" in alice.received()[-1].text
    assert "Contacting an employer is not allowed" in leo.received()[-1].text
    await olga.press("Close the case")
    await olga.send("The lender has agreed to review the account with its compliance team.")
    assert await _case_state(bot) is CaseState.CLOSED
    closed = alice.received()[-1].text
    assert "has been closed by the mediator" in closed and "compliance team" in closed
    await alice.send("/status")
    assert "Pending offer" not in alice.texts()
    assert "the mediator recorded the outcome of a harassment report" in alice.texts()
    await olga.send("/escalations")
    assert "No case needs mediation" in olga.texts()  # closed: its report no longer keeps it there
    await olga.send("/help")
    assert "/escalations" in olga.texts() and "/invite" in olga.texts()


async def test_stats_count_answers_and_agreements(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Accept")
    await leo.press("Confirm this agreement")
    await alice.press("Confirm this agreement")
    await olga.send("/stats")
    stats = olga.texts()
    assert "• plan running: 1" in stats
    assert "Median time to the lender's first answer: 0.0 h" in stats
    assert "Agreement rate (of cases whose negotiation ended): 100%" in stats


async def test_export_and_erasure_cover_the_negotiation(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Counter-offer")
    await leo.press("Discounted one-off settlement")
    await leo.send("12000")
    await leo.press("Send")
    alice.received()
    await alice.press("View and answer")
    await alice.press("Write to the other side")
    await alice.send("My sister may lend me 9000 in December.")
    await alice.send("/mydata")
    exported = plain(next(m for m in alice.last if m.file_name).text)
    assert '"offers"' in exported and "12000" in exported and "My sister may lend me 9000" in exported
    await alice.send("/delete")
    await alice.press("Yes, erase my data")
    assert await _case_state(bot) is CaseState.WITHDRAWN
    await leo.send("/offer")
    assert "No offer is waiting" in leo.texts()
    async with bot.store.unit() as session:
        from sqlalchemy import select

        from storage import models

        senders = list(await session.scalars(select(models.CaseMessage.sender_role)))
    assert senders == []


async def test_no_affordable_plan_reaches_the_mediator_and_the_lender_proposes(bot: Bot) -> None:
    alice = bot.person("alice")
    await reach(alice, bot, "finances:net_monthly_income")
    for amount in ("3000", "2000", "1000", "0", "0", "0", "0", "0", "0", "0"):
        await alice.send(amount)
    await alice.press("Yes")
    await alice.press("Ask a mediator")
    await alice.press("Submit")
    olga = await operator(bot)
    await olga.send("/escalations")
    assert "1 case needs a mediator" in olga.texts()
    await olga.send("/queue")
    await olga.press("#1")
    assert "Requested plan: none fits the budget" in olga.texts()
    leo = await lender_staff(bot, olga)
    await olga.press("Approve")
    assert "no plan fits the budget – please propose one" in leo.received()[-1].text
    await leo.press("View and answer")
    assert "No offer is waiting for an answer" in leo.texts()
    await counter(leo, "Interest stopped", "60", "239", opener="View and answer", action="Make an offer")
    assert "New offer from the lender" in alice.received()[-1].text


async def test_lender_words_past_the_daily_cap_wait_for_the_next_day(bot: Bot, clock: FakeClock) -> None:
    alice, _, leo = await approved(bot)
    clock.current = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    alice.received()
    for number in range(1, 5):
        clock.advance(minutes=1)
        await leo.press("View and answer")
        await leo.press("Write to the other side")
        await leo.send(f"Reminder number {number}.")
    await bot.app.delivery.drain()
    arrived = "\n".join(m.text for m in alice.received())
    assert all(f"Reminder number {n}." in arrived for n in (1, 2, 3))
    assert "Reminder number 4." not in arrived  # three a day (the default cap): the fourth waits
    clock.current = datetime(2026, 11, 3, 0, 1, tzinfo=UTC)  # 08:01 the next day in Shanghai
    # Released by the minute job, or already by delivery's own look at the outbox (PostgreSQL's notice can
    # be handled after the clock moved): either way it goes once.
    await bot.app.delivery.release_due()
    await bot.app.delivery.drain()
    later = [m.text for m in alice.received()]
    assert sum("Reminder number 4." in text for text in later) == 1, later
