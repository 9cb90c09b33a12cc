"""The mediator's desk (issue 11): late staff see the whole case, "Talk to a person" reaches someone, one
open case per loan (and a loan's history in review), a file as an answer, the lists, /status for staff,
report outcomes, and staff administration in chat.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel, Role
from dialogs.messages import InboundKind
from storage import models
from tests.dialogs.harness import Bot, lender_staff, operator, start_and_consent, submit_application, verify
from tests.dialogs.test_negotiation import approved, in_review

LETTER = {"ref": "/home/alice/letter.pdf", "name": "letter.pdf", "size": 2048, "sha256": "ab" * 32}


async def _rows(bot: Bot, table: Any, *where: Any) -> list[Any]:
    async with bot.store.unit() as session:
        return list(await session.scalars(select(table).where(*where)))


async def test_staff_who_join_late_see_the_whole_case_and_the_mediator_is_told_nobody_was(bot: Bot) -> None:
    alice, olga = await in_review(bot)
    await olga.press("Ask for more information")
    await olga.send("Could you send the letter that ended your job?")
    await alice.press("Answer")
    await alice.deliver(alice.inbound(InboundKind.FILE, **LETTER))  # a file is an answer too
    assert "Thank you" in alice.texts(), alice.texts()
    evidence = await _rows(bot, models.EvidenceFile, models.EvidenceFile.purpose == "info")
    assert len(evidence) == 1 and evidence[0].sha256 == "ab" * 32
    assert b"letter.pdf" not in (evidence[0].file_enc or b"")  # the name is sealed, as hardship evidence

    await olga.send("/queue")
    await olga.press("#1")
    assert "answer" in olga.texts() and "letter.pdf sha256 abababababab" in olga.texts(), olga.texts()
    await olga.press("Approve")
    told = olga.texts()
    assert "No one at Demo Lender can be reached yet" in told and "/invite Demo Lender" in told, told

    leo = await lender_staff(bot, olga)  # joins after the approval: no notice ever reached them
    await leo.send("/cases")
    await leo.press("#1")
    brief = leo.texts()
    for fact in (
        'Hardship: Lost my job, temporary – "I lost my job in October and I am looking for work."',
        "Could you send the letter that ended your job?",  # the mediator's question and the answer
        "letter.pdf (sha256 abababababab…)",  # evidence by name and hash
        "affordable instalment ¥1,025.00 a month",
        "(¥14,321.55 principal, ¥1,020.40 interest, ¥380.00 penalties, ¥120.00 fees)",
        "Rates: contract 24.00% a year; the law protects up to 13.80% a year",
        "Risk: grade B (30 points)",
        "round 1, borrower, Nov 2, 17:30 Beijing time: Interest stopped",
    ):
        assert fact in brief, (fact, brief)
    await leo.send("/case 1")
    assert "Hardship: Lost my job" in leo.texts()
    await leo.press("View and answer")
    assert "Pending offer (round 1, from borrower)" in leo.texts()


async def test_the_mediator_is_told_who_was_notified(bot: Bot) -> None:
    _alice, olga, _leo = await approved(bot)
    assert "1 person at Demo Lender has been notified and has 72 hours to answer" in olga.texts()


async def test_talk_to_a_person_reaches_the_mediators_who_answer_and_handle_it(bot: Bot) -> None:
    alice, olga, _leo = await approved(bot)
    olga.received()
    await alice.send("/help")
    await alice.press("Talk to a person")
    await alice.send("Can the lender stop calling my mother?")
    assert "within 1 working day" in alice.texts() and "case 1" in alice.texts(), alice.texts()
    notice = "\n".join(m.text for m in olga.received())
    assert "asked to talk to a person about case 1" in notice and "stop calling my mother" in notice
    requests = await _rows(bot, models.HelpRequest)
    assert [(r.case_id, r.reason, r.status) for r in requests] == [(1, "asked", "open")]
    assert b"mother" not in requests[0].details_enc  # their words are sealed

    await olga.send("/escalations")
    assert "1 case needs a mediator" in olga.texts()
    await olga.press("#1")
    assert "Asked to talk to a person" in olga.texts() and "stop calling my mother" in olga.texts()
    await olga.press("Message the borrower")
    await olga.send("I have asked the lender to call only you, between 8:00 and 21:00.")
    assert "only you" in alice.received()[-1].text
    await olga.press("Mark the request handled")
    assert "marked handled" in olga.texts()
    assert [r.status for r in await _rows(bot, models.HelpRequest)] == ["handled"]
    await olga.send("/escalations")
    assert "No case needs mediation" in olga.texts()


async def test_someone_without_a_case_is_heard_too(bot: Bot) -> None:
    olga = await operator(bot)
    bob = bot.person("bob")
    await bob.send("/start")
    await bob.send("/help")
    await bob.press("Talk to a person")
    await bob.press("Send without a message")
    assert "within 1 working day" in bob.texts()
    assert "no case yet; request 1" in olga.received()[-1].text
    await olga.press("Request 1")
    await olga.press("Write to them")
    await olga.send("Hello Bob, what can I help you with?")
    assert "Hello Bob" in bob.received()[-1].text
    await olga.press("Mark the request handled")
    assert [r.status for r in await _rows(bot, models.HelpRequest)] == ["handled"]
    assert "handled" in olga.texts() and "[Write to them]" not in olga.texts()  # nothing left to do


async def test_one_open_case_per_loan_and_the_history_in_review(bot: Bot) -> None:
    alice, olga = await in_review(bot)
    carol = bot.person("carol")  # the same loan, from another account
    await start_and_consent(carol)
    await verify(carol, bot)
    assert "already has an application open" in carol.texts(), carol.texts()
    async with bot.store.unit() as session:
        assert await session.scalar(select(func.count()).select_from(models.Case)) == 1

    await olga.press("Reject")
    await olga.send("Please apply again once you have your termination letter.")
    await submit_application(bot.person("dave"), bot)
    await olga.send("/queue")
    assert "#2" in olga.texts() and "¥15,841.95 owed, grade B" in olga.texts(), olga.texts()
    await olga.press("#2")
    assert "Earlier cases on this loan:\n• #1 – not accepted, ended" in olga.texts(), olga.texts()
    assert alice.received()  # told of the rejection


async def test_cases_lists_any_case_with_filters_and_status_serves_every_role(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await olga.send("/cases")
    listed = olga.texts()
    assert "#1 – approved, waiting for the lender's answer, Demo Lender, ¥15,841.95 owed, grade B" in listed
    assert "waiting since today, next deadline Nov 5, 17:30 Beijing time" in listed, listed
    await olga.send("/cases approved Demo Lender")
    assert "#1 – approved" in olga.texts()
    await olga.send("/cases closed")
    assert "No case is closed" in olga.texts()
    await olga.send("/cases Nobody Ltd")
    assert "Nobody Ltd" in olga.texts() and "#1" not in olga.texts()
    await olga.send("/queue Demo Lender")
    assert "Nothing waits for review with Demo Lender" in olga.texts()

    await olga.send("/status")
    assert "0 applications waiting for review" in olga.texts() and "approved" in olga.texts()
    await leo.send("/status")
    assert "Your lender's cases:\n• #1 – approved" in leo.texts(), leo.texts()
    await alice.send("/status")
    assert "Application 1" in alice.texts()


async def test_a_report_names_a_numbered_message_and_gets_an_outcome(bot: Bot) -> None:
    alice, olga, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Write to the other side")
    await leo.send("Pay now or we call your employer.")
    await alice.press("Report as harassment")
    message = (await _rows(bot, models.CaseMessage))[-1].id
    await olga.send("/case 1")
    view = olga.texts()
    assert f"message {message}, " in view and "Pay now or we call your employer." in view, view
    assert f"a message from the lender's side (message {message})" in view
    assert "Why it is with you: a harassment report" in view
    # No account numbers (trial 1, item 18): one person on each side, so just the side
    who_acted = view.split("Who acted:")[1].split(" [")[0]
    assert who_acted.startswith(" borrower (6 times") and "; lender (1 time" in who_acted, who_acted
    assert "#" not in who_acted, who_acted
    await olga.press("Outcome of report #1")
    await olga.press("Passed to the lender's compliance contact")
    await olga.send("Sent to compliance@demo.example with the message.")
    assert "Report #1: Passed to the lender's compliance contact – recorded" in olga.texts()
    [report] = await _rows(bot, models.HarassmentReport)
    assert report.status == "passed_on" and report.decided_at is not None
    assert report.outcome_enc is not None and b"compliance@" not in report.outcome_enc
    assert "compliance contact" in alice.received()[-1].text
    await olga.send("/case 1")
    assert "recorded the outcome of a harassment report (mediator)" in olga.texts()


async def test_a_mediator_lists_and_revokes_a_lenders_staff(bot: Bot) -> None:
    _alice, olga, leo = await approved(bot)
    account = (await bot.store.ensure_account(Channel.TERMINAL, "leo")).id
    await olga.send("/staff Demo Lender")
    assert f"account {account} (terminal leo)" in olga.texts(), olga.texts()
    await olga.send(f"/revoke {account}")
    assert f"Account {account} no longer acts for Demo Lender" in olga.texts()
    assert "ended your access as staff of Demo Lender" in leo.received()[-1].text
    assert (await bot.store.ensure_account(Channel.TERMINAL, "leo")).role is Role.BORROWER
    await leo.send("/case 1")
    assert "There is no case 1 that you can see" in leo.texts()
    await olga.send(f"/revoke {account}")
    assert "is not a lender's staff member" in olga.texts()
    await olga.send("/staff Demo Lender")
    assert "No one acts for Demo Lender yet" in olga.texts()
    assert DEMO_BORROWER.name not in olga.texts()


async def test_a_person_stuck_on_a_question_is_marked_stuck_for_the_mediator(bot: Bot) -> None:
    olga = await operator(bot)
    alice = bot.person("alice")
    await start_and_consent(alice)
    await alice.send(DEMO_BORROWER.loan_ref)
    for _ in range(3):
        await alice.send("1234")  # not a name: the third miss offers a person
    await alice.press("Talk to a person")
    await alice.send("I cannot find my loan reference anywhere.")
    assert "within 1 working day" in alice.texts()
    assert "after several answers that were not accepted" in olga.received()[-1].text
    [request] = await _rows(bot, models.HelpRequest)
    assert (request.case_id, request.reason, request.status) == (None, "stuck", "open")
