"""/mydata for lender staff and mediators: their own personal data as a file, and what it holds in words.

A borrower's /mydata is :mod:`dialogs.flows.mydata`; this is the staff branch, kept apart from it. What a
staff export holds, and why none of the borrowers' data is in it, is :mod:`storage.staff_data`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.domain import Role
from dialogs.flows.base import BACK, HOME, Choice, Ctx, Flow, Picked, Step
from dialogs.flows.inputs import buttons_only
from dialogs.flows.mydata import SENT as BORROWERS_SENT
from dialogs.flows.mydata import send_once
from dialogs.flows.once import new_request

if TYPE_CHECKING:
    from dialogs.dispatch import Dialogs

SENT = "sd_sent"  # set once the export is sent: a question asked again does not resend it
STAFF = frozenset({Role.LENDER, Role.OPERATOR})


async def mydata(dialogs: Dialogs, ctx: Ctx, _argument: str) -> None:
    """``/mydata``: a borrower's export, or a staff member's own (this module); asked for, so sent."""
    new_request(ctx, SENT, BORROWERS_SENT)
    await dialogs.goto(ctx, "staffdata:export" if ctx.account.role in STAFF else "mydata:export")


async def ask_export(ctx: Ctx) -> None:
    exported = await send_once(ctx, SENT, ctx.turn.staff_personal_data)
    if exported is None:
        return
    decisions = exported["payment_decisions"]
    ctx.ask(
        "staffdata/export",
        Choice("back", "back"),
        Choice("menu", "menu"),
        staff_you=exported["account"],
        staff_messages=len(exported["messages_written"]),
        staff_disputes=sum(1 for d in decisions if d["decision"] == "disputed"),
        staff_decisions=len(decisions),
        staff_offers=len(exported["offers_made"]),
        staff_actions=len(exported["case_actions"]),
        staff_help=len(exported["help_requests"]),
        staff_broadcasts=len(exported["broadcasts_created"]),
    )


async def on_export(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "again":
        new_request(ctx, SENT)
        return "export"
    return BACK if picked.id == "back" else HOME


STAFF_DATA = Flow("staffdata", {"export": Step(ask_export, buttons_only, on_export)}, roles=STAFF)
