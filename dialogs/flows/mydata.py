"""/mydata and /delete: see everything stored about you, and have it erased where the law allows."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from dialogs.domain import PaymentStatus
from dialogs.flows.base import BACK, HOME, Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.casework import terms_view
from dialogs.flows.inputs import buttons_only
from dialogs.flows.once import first_time, new_request
from dialogs.flows.payments import local_today
from dialogs.flows.status import MILESTONES
from dialogs.flows.submit import budget
from dialogs.flows.verify import LOCK_WINDOW
from dialogs.rules.affordability import Finances
from dialogs.rules.supervision import Due, allocate

EXPORT_FILE = "loanbridge-my-data.json"
SENT = "md_sent"  # set once the export is sent: a question asked again (a slip, a restart) does not resend it
# Every kind of case event the summary names in words (labels.j2: event_<kind>); any other is "a step".
LOGGED = MILESTONES | {
    "finances_saved",
    "plan_voided",
    "personal_data_erased",
    "offer_revived",
    "deadline_set",
    "blind_bound_given",
    "breach_held",
    "message_info_reply",
    "help_handled",
}


async def send_once(
    ctx: Ctx, sent: str, load: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any] | None:
    """The export as a file, once a request (/mydata, the menu's entry, "Send it again": see
    :func:`new_request`): ``None`` when it was sent already, and the person is told so and offered it
    again. A step asked again (a slip, a language change, a restart) is not a request."""
    if not first_time(ctx, sent):
        choices = (Choice("again", "send_again"), Choice("back", "back"), Choice("menu", "menu"))
        ctx.ask("mydata/export_again", *choices, file_name_sent=EXPORT_FILE)
        return None
    exported = await load()
    document = json.dumps(exported, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    ctx.say("mydata/export_file", file_name=EXPORT_FILE, document=document)
    return exported


async def ask_export(ctx: Ctx) -> None:
    """The whole export as a file (machine-readable), and what it holds in words, in the person's language:
    their own data, so nothing in it is masked. Sent once a visit: a line typed here gets a line back."""
    exported = await send_once(ctx, SENT, ctx.turn.personal_data)
    if exported is None:
        return
    ctx.ask(
        "mydata/export",
        Choice("back", "back"),
        Choice("menu", "menu"),
        cases=len(exported["cases"]),
        you=exported["account"],
        applications=[_case_summary(case, local_today(ctx)) for case in exported["cases"]],
        filed=[{"at": r.get("at"), "status": r.get("status")} for r in exported["harassment_reports"]],
        failures=len(exported["failed_verifications"]),
        lockout_hours=round(LOCK_WINDOW.total_seconds() / 3600),
    )


def _case_summary(exported: dict[str, Any], today: date) -> dict[str, Any]:
    """One application of the export as the summary shows it (an erased one: what is left of it)."""
    case = exported["case"]
    head = {
        "id": case["id"],
        "state": _value(case["state"]),
        "created_at": case["created_at"],
        "log": log_lines(exported["events"], _proposers(exported.get("offers", []))),
    }
    if exported.get("personal_data_erased"):
        record = exported.get("lenders_loan_record") or {}
        return head | {"erased": True, "ref": record.get("loan_ref")}
    finances = exported.get("finances")
    agreement = exported.get("agreement")
    return head | {
        "erased": False,
        "loan": exported.get("loan"),
        "hardship": _hardship(exported.get("hardship")),
        "finances": budget(Finances(**finances)) if finances else None,
        "plan": terms_view(exported["chosen_plan"]) if exported.get("chosen_plan") else None,
        "offers": [_offer(offer) for offer in exported.get("offers", [])],
        "agreement": terms_view(agreement["terms"]) if agreement else None,
        "evidence": [ref.get("file_name") or "" for ref in exported.get("evidence", [])],
        "messages": len(exported.get("messages", [])),
        "payments": [_payment(payment, exported["events"]) for payment in exported.get("payments", [])],
        "schedule": _schedule(exported.get("schedule", []), exported.get("payments", []), today),
    }


def log_lines(events: list[dict[str, Any]], proposers: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """The case log in words: when, who (by role), what; the same step repeated in a row (a budget saved
    answer by answer) is one line with how many times, at the last. An offer is whose it is (a mediator's
    approval sends the borrower's own plan: hers, sent on by the mediator); a message still held for the
    reader's hours says when it reaches them."""
    lines: list[dict[str, Any]] = []
    for event in events:
        kind = event["kind"] if event["kind"] in LOGGED else "other"
        by = _value(event["by"]) if event["by"] else None
        offer = (event.get("details") or {}).get("offer") if kind == "offer_made" else None
        line = {
            "at": event["at"],
            "kind": kind,
            "to_state": _value(event["to_state"]) if event["to_state"] else None,
            "by": (proposers or {}).get(offer, by) if offer is not None else by,
            "sent_by": by,
            "waiting_until": event.get("waiting_until"),
            "times": 1,
        }
        last = lines[-1] if lines else None
        same = ("kind", "to_state", "by", "sent_by", "waiting_until")
        if last and all(last[k] == line[k] for k in same):
            last |= {"at": line["at"], "times": last["times"] + 1}
        else:
            lines.append(line)
    return lines


def _proposers(offers: list[dict[str, Any]]) -> dict[int, str]:
    return {offer["id"]: _value(offer["proposer"]) for offer in offers if "id" in offer}


DECISIONS = frozenset({"payment_confirmed", "payment_rejected"})


def _payment(payment: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """A reported payment, and who decided it (a mediator may count one over the lender's objection:
    the line must not read as if the lender confirmed what it said it could not find)."""
    decisions = [
        e
        for e in events
        if e["kind"] in DECISIONS and (e.get("details") or {}).get("payment") == payment["id"]
    ]
    return {
        "amount": payment["amount"],
        "paid_on": payment["paid_on"],
        "reported_at": payment["reported_at"],
        "status": _value(payment["status"]),
        "reason": payment.get("dispute_reason"),
        "decided_by": _value(decisions[-1]["by"]) if decisions and decisions[-1]["by"] else None,
    }


def _schedule(
    dues: list[dict[str, Any]], payments: list[dict[str, Any]], today: date
) -> dict[str, Any] | None:
    """The plan's instalments as they stand today, with the confirmed payments applied (as /schedule)."""
    if not dues:
        return None
    confirmed = [p["amount"] for p in payments if _value(p["status"]) == PaymentStatus.CONFIRMED.value]
    allocation = allocate([Due(**due) for due in dues], confirmed)
    moved_from = {due["number"]: due["moved_from"] for due in dues}
    return {
        "instalments": [
            {
                "number": i.number,
                "due": i.due_date,
                "amount": i.amount,
                "paid": i.paid,
                "state": "due_today" if i.due_date == today and state == "due" else state,
                "moved_from": moved_from.get(i.number),
            }
            for i in allocation.instalments
            for state in [i.state(today).value]
        ],
        "total": allocation.total,
        "paid_total": allocation.applied,
        "left": allocation.left,
    }


def _hardship(hardship: dict[str, Any] | None) -> dict[str, Any] | None:
    if hardship is None:
        return None
    return {
        "reason": _value(hardship["reason"]),
        "lasting": hardship["lasting"],
        "description": hardship.get("description"),
    }


def _offer(offer: dict[str, Any]) -> dict[str, Any]:
    return {
        "round": offer["round"],
        "proposer": _value(offer["proposer"]),
        "status": _value(offer["status"]),
        "terms": terms_view(offer["terms"]),
    }


def _value(member: Any) -> str:
    """An enum's word (the export keeps the members themselves)."""
    return str(getattr(member, "value", member))


async def on_export(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "again":
        new_request(ctx, SENT)
        return "export"
    return BACK if picked.id == "back" else HOME


async def on_confirm_delete(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "keep":
        ctx.say("mydata/kept")
        return BACK
    # Failed verifications still inside the lock-out window stay: erasing them would reset the lock.
    erasure = await ctx.turn.erase_personal_data(ctx.now - LOCK_WINDOW)
    ctx.conv.case_id = None
    ctx.data.clear()
    ctx.say(
        "mydata/deleted",
        erased=list(erasure.erased),
        kept=list(erasure.kept_for_agreement),
        lenders_loans=list(erasure.lenders_loans),
        lockout_kept=erasure.failed_verifications,
    )
    return HOME


MYDATA = Flow(
    "mydata",
    {
        "export": Step(ask_export, buttons_only, on_export),
        "confirm_delete": Step(
            prompt(
                "mydata/confirm_delete", Choice("delete", "delete_confirm"), Choice("keep", "delete_keep")
            ),
            buttons_only,
            on_confirm_delete,
        ),
    },
)
