"""Every case action × every role × (their own case, someone else's, a forged number): what is forbidden is
refused with a clear message and changes nothing in the store; what is allowed goes through.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dialogs.domain import Channel
from dialogs.messages import InboundKind
from storage import models
from tests.dialogs.harness import Bot, Person, lender_staff, operator
from tests.dialogs.test_negotiation import approved

# "that you can see": /case N, /offer N, /schedule N for a case the sender may not open (trial 1, item 19)
REFUSALS = (
    "not something you can do here",
    "not for your account",
    "no longer available",
    "that you can see",
)
FORGED = 999

# action: how it is sent (a button's choice or a command), with {case} and {message} filled in
ACTIONS = {
    "open": (InboundKind.CHOICE, "0.g:open:{case}"),
    "confirm": (InboundKind.CHOICE, "0.g:confirm:{case}:1"),
    "report": (InboundKind.CHOICE, "0.g:report:{case}:{message}"),
    "info": (InboundKind.CHOICE, "0.g:info:{case}"),
    "invite": (InboundKind.COMMAND, "/invite Demo Lender"),
    "stats": (InboundKind.COMMAND, "/stats"),
    "queue": (InboundKind.COMMAND, "/queue"),
    "escalations": (InboundKind.COMMAND, "/escalations"),
    "cases": (InboundKind.COMMAND, "/cases"),
    "case": (InboundKind.COMMAND, "/case {case}"),
    "offer": (InboundKind.COMMAND, "/offer {case}"),
    "status": (InboundKind.COMMAND, "/status"),
    "staff": (InboundKind.COMMAND, "/staff Other Lender"),
    "revoke": (InboundKind.COMMAND, "/revoke {staff}"),  # last: the allowed run takes otto's role away
}
# Who may do what on their own (or, for a mediator, any) case: everyone else is refused.
ALLOWED = {
    "open": {"borrower", "lender", "operator"},
    "confirm": {"borrower", "lender"},
    "report": {"borrower"},
    "info": {"borrower"},
    "invite": {"operator"},
    "stats": {"operator"},
    "queue": {"operator"},
    "escalations": {"operator"},
    "cases": {"lender", "other_lender", "operator"},
    "case": {"borrower", "lender", "operator"},
    "offer": {"borrower", "lender", "operator"},
    "status": {"borrower", "other_borrower", "lender", "other_lender", "operator"},
    "staff": {"operator"},
    "revoke": {"operator"},
}
CASE_ACTIONS = frozenset({"open", "confirm", "report", "info", "case", "offer"})


async def snapshot(bot: Bot) -> dict[str, Any]:
    """What the store holds that any action could change."""
    async with bot.store.unit() as session:
        counts = {
            table.__tablename__: await session.scalar(select(func.count()).select_from(table))
            for table in (
                models.CaseEvent,
                models.Offer,
                models.CaseMessage,
                models.HarassmentReport,
                models.Invite,
                models.BlindBidRow,
                models.HelpRequest,
            )
        }
        states = list((await session.execute(select(models.Case.id, models.Case.state))).all())
        roles = list((await session.execute(select(models.Account.id, models.Account.role))).all())
        confirmed = list(
            (
                await session.execute(
                    select(models.Agreement.borrower_confirmed_at, models.Agreement.lender_confirmed_at)
                )
            ).all()
        )
    return {"counts": counts, "states": states, "roles": roles, "confirmed": confirmed}


async def _people(bot: Bot) -> tuple[dict[str, Person], int, int]:
    alice, olga, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Write to the other side")
    await leo.send("Please call our office.")
    await leo.press("Accept")  # a draft agreement, version 1, for both to confirm
    await bot.store.add_lender("Other Lender")
    otto = await lender_staff(bot, olga, "otto", "Other Lender")
    bob = bot.person("bob")
    await bob.send("/start")
    async with bot.store.unit() as session:
        message = await session.scalar(select(func.max(models.CaseMessage.id)))
    people = {"borrower": alice, "other_borrower": bob, "lender": leo, "other_lender": otto, "operator": olga}
    staff = (await bot.store.ensure_account(Channel.TERMINAL, "otto")).id
    return people, int(message or 0), staff


async def _run(person: Person, action: str, case: int, message: int, staff: int = 0) -> str:
    kind, payload = ACTIONS[action]
    text = payload.format(case=case, message=message, staff=staff)
    replies = await person.deliver(person.inbound(kind, text))
    return "\n".join(m.text for m in replies)


async def test_every_action_checks_role_and_ownership(bot: Bot) -> None:
    people, message, staff = await _people(bot)
    allowed_runs: list[tuple[str, str]] = []
    for action in ACTIONS:
        for who, person in people.items():
            targets = [("case", 1), ("forged", FORGED)] if action in CASE_ACTIONS else [("-", 1)]
            for target, case in targets:
                allowed = target != "forged" and who in ALLOWED[action]
                if allowed:
                    allowed_runs.append((action, who))
                    continue
                before = await snapshot(bot)
                reply = await _run(person, action, case, FORGED if target == "forged" else message, staff)
                assert any(refusal in reply for refusal in REFUSALS), (action, who, target, reply)
                assert await snapshot(bot) == before, (action, who, target)
    for action, who in allowed_runs:  # last: some of them change the case
        reply = await _run(people[who], action, 1, message, staff)
        assert not any(refusal in reply for refusal in REFUSALS), (action, who, reply)


async def test_a_forged_button_that_is_not_ours_is_just_stale(bot: Bot) -> None:
    people, _, _ = await _people(bot)
    before = await snapshot(bot)
    for payload in (
        "0.g:open:1:2:3",
        "0.g:open:x",
        "0.g:open:-1",
        "0.g:nuke:1",
        "0.g:confirm:1",
        "0.g:open:" + "9" * 40,
    ):
        replies = await people["borrower"].deliver(people["borrower"].inbound(InboundKind.CHOICE, payload))
        assert "no longer available" in "\n".join(m.text for m in replies), payload
    assert await snapshot(bot) == before


async def test_an_invite_works_once_and_only_before_it_expires(bot: Bot, clock: Any) -> None:
    olga = await operator(bot)
    await olga.send("/invite Demo Lender")
    code = olga.texts().split("\n")[0].rsplit(" ", 1)[1]
    await olga.send("/invite Demo Lender")
    later = olga.texts().split("\n")[0].rsplit(" ", 1)[1]
    leo = bot.person("leo")
    await leo.send(f"/join {code}")
    assert "now acts for Demo Lender" in leo.texts()
    eve = bot.person("eve")
    await eve.send(f"/start {code}")
    assert "not valid" in eve.texts()
    clock.advance(hours=73)
    await eve.send(f"/join {later}")
    assert "not valid" in eve.texts()
    await eve.send("/cases")
    assert "not for your account" in eve.texts()
