"""Verification: the borrower proves the loan is theirs (reference, name, ID number, phone, one-time code).

Which detail did not match is never said (that would help someone guess another person's details). The
details typed stay in the (sealed) conversation only until the loan is opened or an attempt fails: /back
from the code to correct one detail must not lose the others, nor cost an attempt.

Nor may verification tell whether someone has a loan here at all: up to the code step the replies, the
work done and the limits are the same whether or not the details match. Details that match no loan still
reach the code step ("if the details match a loan, a code was sent"), where no code is accepted; the SMS
itself leaves after the reply (see :class:`dialogs.ports.CodeSender`), so its time is not the reply's.
The one exception is the sender's own Telegram contact: Telegram verified that number, so a match needs
no code; that tells a person only about loans in their own number.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from dialogs.domain import Loan
from dialogs.errors import AlreadyExists
from dialogs.flows import application
from dialogs.flows.base import HOME, TRAIL, Choice, Ctx, Flow, Invalid, Picked, Step, prompt
from dialogs.flows.casework import ASK_FOR_HELP
from dialogs.flows.inputs import buttons_only, code, id_number, person_name, phone, text
from dialogs.lifecycle import TERMINAL
from dialogs.masking import mask_phone
from dialogs.messages import InboundKind
from dialogs.rules.identity import normalise_loan_ref, same_person_name

LOCK_WINDOW = timedelta(hours=1)
CODE_LIFETIME = timedelta(minutes=10)
CODE_TRIES = 3
MAX_RESENDS = 3
# Codes asked for, matching details or not: per account, and per phone number whoever asks (SMS bombing).
ACCOUNT_CODES, ACCOUNT_CODE_WINDOW = 3, timedelta(minutes=15)
PHONE_CODES, PHONE_CODE_WINDOW = 5, timedelta(hours=1)
RESEND = Choice("resend", "resend_code")
_TYPED = ("v_ref", "v_name", "v_id", "v_phone")


async def _locked(ctx: Ctx) -> bool:
    failures = await ctx.turn.verification_failures(ctx.now - LOCK_WINDOW)
    return failures >= ctx.services.lock_failures


async def _fail(ctx: Ctx) -> str:
    """Count a failed attempt; say how many remain, or that verification is locked for an hour."""
    await ctx.turn.record_verification_failure()
    for key in (*_TYPED, "v_code", "v_loans"):
        ctx.data.pop(key, None)
    failures = await ctx.turn.verification_failures(ctx.now - LOCK_WINDOW)
    remaining = ctx.services.lock_failures - failures
    if remaining <= 0:
        ctx.say("verify/locked")
        return HOME
    ctx.say("verify/no_match", remaining=remaining)
    return "ref"


async def ask_ref(ctx: Ctx) -> None:
    if await _locked(ctx):
        ctx.ask("verify/locked", Choice("menu", "menu"))
        return
    ctx.ask("verify/ref", Choice("noref", "no_reference"))


async def on_ref(ctx: Ctx, answer: str | Picked) -> str:
    if isinstance(answer, Picked) and answer.id == "menu":
        return HOME
    if await _locked(ctx):
        raise Invalid("verify/locked")
    ctx.data["v_ref"] = None if isinstance(answer, Picked) else answer
    return "name"


async def ask_name(ctx: Ctx) -> None:
    written = ctx.data.get("v_name")
    keep = (Choice("keep", "keep_written"),) if written else ()
    ctx.ask("verify/name", *keep, written=written)


async def on_name(ctx: Ctx, name: str | Picked) -> str:
    if isinstance(name, str):  # a Picked is "Keep": the name typed before stays
        ctx.data["v_name"] = " ".join(name.split())
    return "id_number"


async def on_id_number(ctx: Ctx, number: str) -> str:
    ctx.data["v_id"] = number
    return "phone"


async def on_phone(ctx: Ctx, number: str) -> str:
    if await _locked(ctx):
        ctx.say("verify/locked")
        return HOME
    if (missing := _unanswered(ctx)) is not None:
        return missing  # a conversation from before the details were kept: ask again, never guess
    loans = [
        loan
        for loan in await ctx.turn.find_loans(id_number=ctx.data["v_id"], phone=number)
        if _same(ctx, loan)
    ]
    if loans and _own_contact(ctx):
        ctx.say("verify/contact_confirmed")
        return await _verified(ctx, [loan.id for loan in loans])
    ctx.data["v_loans"] = [loan.id for loan in loans]  # empty when nothing matched: no code will do
    if not await _may_send(ctx, number):
        ctx.data.pop("v_loans")
        ctx.say("verify/too_many_codes")
        return HOME
    await _send_code(ctx, number)
    return "code"


def _own_contact(ctx: Ctx) -> bool:
    """The number came from the sender's own shared contact, which the channel (Telegram) verified."""
    inbound = ctx.inbound
    return inbound is not None and inbound.kind is InboundKind.CONTACT and inbound.extra.get("own") is True


def _unanswered(ctx: Ctx) -> str | None:
    """The first identity question with no answer kept (the reference may be None: "I have none")."""
    asked = (("v_ref", "ref"), ("v_name", "name"), ("v_id", "id_number"))
    return next((step for key, step in asked if key not in ctx.data), None)


def _same(ctx: Ctx, loan: Loan) -> bool:
    ref = ctx.data.get("v_ref")
    name_matches = same_person_name(str(ctx.data.get("v_name", "")), loan.row.borrower_name)
    # Both sides normalised at comparison: the loan book keeps the lender's spelling, unmigrated.
    return name_matches and (ref is None or normalise_loan_ref(loan.row.loan_ref) == normalise_loan_ref(ref))


async def _may_send(ctx: Ctx, to: str) -> bool:
    """Whether another code may go now: few enough lately from this account, and to this number by anyone."""
    mine, for_phone = await ctx.turn.code_requests(
        to, account_since=ctx.now - ACCOUNT_CODE_WINDOW, phone_since=ctx.now - PHONE_CODE_WINDOW
    )
    return mine < ACCOUNT_CODES and for_phone < PHONE_CODES


async def _send_code(ctx: Ctx, to: str) -> None:
    """Draw a code and record the request either way; only details that matched a loan get it sent."""
    one_time = f"{secrets.randbelow(1_000_000):06d}"
    matched = bool(ctx.data.get("v_loans"))
    previous = ctx.data.get("v_code") or {}
    ctx.data["v_code"] = {
        "code": one_time if matched else "",  # nothing typed equals "": no code is accepted
        "phone": to,
        "expires": (ctx.now + CODE_LIFETIME).isoformat(),
        "tries": 0,
        "resends": previous.get("resends", -1) + 1,
    }
    await ctx.turn.record_code_request(to)
    if matched:
        await ctx.services.code_sender.send_code(to, one_time, account_id=ctx.account.id)


async def mark_not_sent(ctx: Ctx, one_time: str) -> bool:
    """The SMS with ``one_time`` could not be sent: if that code is still the one awaited, say so kindly.

    Nothing typed counts against the person until they ask for a new code: a code that never arrived
    cannot be typed right. Returns whether the person was told.
    """
    sent = ctx.data.get("v_code") or {}
    awaited = (ctx.conv.flow, ctx.conv.step) == ("verify", "code")
    if not awaited or not secrets.compare_digest(str(sent.get("code", "")), one_time):
        return False  # they moved on, or asked for a newer code since
    sent["not_sent"] = True
    await ask_code(ctx)
    return True


async def ask_code(ctx: Ctx) -> None:
    sent = ctx.data.get("v_code") or {}
    if sent.get("not_sent"):
        ctx.ask("verify/code_not_sent", RESEND, ASK_FOR_HELP)
        return
    ctx.ask("verify/code", RESEND, phone=mask_phone(sent.get("phone", "")))


async def on_code(ctx: Ctx, answer: str | Picked) -> str:
    sent = ctx.data.get("v_code")
    if not sent:
        return "ref"
    if isinstance(answer, Picked):
        return await _resend(ctx, sent)
    if sent.get("not_sent"):
        return "code"  # asked again: the code never arrived, so nothing typed counts
    if ctx.now > datetime.fromisoformat(sent["expires"]):
        raise Invalid("verify/code_expired")
    if not secrets.compare_digest(answer, sent["code"]):
        sent["tries"] += 1
        if sent["tries"] >= CODE_TRIES:
            return await _fail(ctx)
        raise Invalid("verify/wrong_code", remaining=CODE_TRIES - sent["tries"])
    ctx.data.pop("v_code")
    return await _verified(ctx, ctx.data.pop("v_loans"))


async def _resend(ctx: Ctx, sent: dict[str, Any]) -> str:
    if sent["resends"] >= MAX_RESENDS:
        raise Invalid("verify/too_many_resends")
    if not await _may_send(ctx, sent["phone"]):
        raise Invalid("verify/too_many_codes")  # the code sent before is still good until it expires
    await _send_code(ctx, sent["phone"])
    return "code"


async def _verified(ctx: Ctx, loan_ids: list[int]) -> str:
    if len(loan_ids) > 1:
        ctx.data["v_loans"] = loan_ids
        return "pick"
    return await _open(ctx, loan_ids[0])


async def ask_pick(ctx: Ctx) -> None:
    choices = []
    for loan_id in ctx.data.get("v_loans", []):
        loan = await ctx.turn.loan(loan_id)
        lender = await ctx.turn.lender(loan.lender_id)
        context = {"lender": lender.name, "ref": loan.row.loan_ref, "owed": loan.row.outstanding_total}
        choices.append(Choice(f"loan{loan_id}", "loan_choice", context))
    ctx.ask("verify/pick", *choices)


async def on_pick(ctx: Ctx, picked: Picked) -> str:
    loan_id = int(picked.id.removeprefix("loan"))
    ctx.data.pop("v_loans", None)
    return await _open(ctx, loan_id)


async def _open(ctx: Ctx, loan_id: int) -> str:
    """Resume the borrower's unfinished case on this loan, or open one."""
    live = [c for c in await ctx.turn.my_cases() if c.loan_id == loan_id and c.state not in TERMINAL]
    try:
        case = live[-1] if live else await ctx.turn.open_case(loan_id)
    except AlreadyExists:  # one open case per loan: another application on it is open, or its plan runs
        ctx.say("verify/case_open", ASK_FOR_HELP)
        return HOME
    ctx.conv.case_id = case.id
    ctx.data[TRAIL] = []  # verified: going back must not lead into the identity questions again
    for key in _TYPED:  # confirmed: the details typed are needed no longer
        ctx.data.pop(key, None)
    loan = await ctx.turn.loan(loan_id)
    lender = await ctx.turn.lender(loan.lender_id)
    ctx.say(
        "verify/done",
        lender=lender.name,
        ref=loan.row.loan_ref,
        owed=loan.row.outstanding_total,
        resumed=bool(live),
    )
    return await application.next_target(ctx)


VERIFY = Flow(
    "verify",
    {
        "ref": Step(ask_ref, text(max_len=64, example="LB-2024-0001"), on_ref),
        # A name that cannot be one (digits, emoji, the loan reference) is refused before it costs an attempt.
        "name": Step(ask_name, person_name, on_name),
        "id_number": Step(prompt("verify/id_number"), id_number, on_id_number),
        # Channels that can ask for the sender's own contact (Telegram) show that button for this question.
        "phone": Step(prompt("verify/phone", request_contact=True), phone, on_phone),
        "code": Step(ask_code, code, on_code, returnable=False),
        "pick": Step(ask_pick, buttons_only, on_pick, returnable=False),
    },
    sensitive=True,
)
