"""/mydata for lender staff and mediators: their own personal data, and nothing of the borrowers'.

A staff member's own data is their account and what they did and wrote: messages on cases, the reasons
they gave for disputing a payment, their decisions on payments, the offers they made, the case-log entries
they made, their requests for help and (mediators) the broadcasts they created. Every row is selected by the
staff member's own account id, so nothing another person wrote or did is in it. What they may see of a
borrower while working a case (a masked ID number, a budget, a story) is the borrower's data, not theirs:
it is left out, and the export says so. Case-log entries carry their kind and time only: their details
belong to the case.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from storage import models
from storage.accounts import account_row
from storage.borrower_data import account_fields

if TYPE_CHECKING:
    from storage.case_work import CaseWork

FORMAT = "loanbridge-staff-data/1"
LEFT_OUT = ("borrowers_personal_data",)  # what a staff export never holds, as the summary names it


async def export(work: CaseWork) -> dict[str, Any]:
    """The staff member's own data (see the module docstring)."""
    me = work.account.id
    row = await account_row(work.session, me)
    lender = await work.session.get(models.Lender, row.lender_id) if row.lender_id is not None else None
    return {
        "format": FORMAT,
        "account": account_fields(row) | {"lender": lender.name if lender is not None else None},
        "messages_written": await _messages(work, me),
        "payment_decisions": await _payment_decisions(work, me),
        "offers_made": await _offers(work, me),
        "case_actions": await _actions(work, me),
        "help_requests": await _help_requests(work, me),
        "broadcasts_created": await _broadcasts(work, me),
        "left_out": list(LEFT_OUT),
    }


async def _messages(work: CaseWork, me: int) -> list[dict[str, Any]]:
    table = models.CaseMessage
    rows = await work.session.scalars(select(table).where(table.sender_account_id == me).order_by(table.id))
    return [
        {
            "case": r.case_id,
            "at": r.created_at,
            "kind": r.kind,
            "to": r.recipients,
            "text": work.cipher.decrypt("case_messages.text", r.text_enc),
        }
        for r in rows
    ]


async def _payment_decisions(work: CaseWork, me: int) -> list[dict[str, Any]]:
    """What the staff member decided about payments, with their own words for a dispute."""
    table = models.Payment
    mine = or_(
        table.confirmed_by_account_id == me,
        table.disputed_by_account_id == me,
        table.resolved_by_account_id == me,
    )
    decisions: list[dict[str, Any]] = []
    for r in await work.session.scalars(select(table).where(mine).order_by(table.id)):
        head = {"case": r.case_id, "payment": r.id, "amount": r.amount}
        if r.disputed_by_account_id == me:
            sealed = r.dispute_reason_enc
            reason = work.cipher.decrypt("payments.dispute_reason", sealed) if sealed else None
            decisions.append(head | {"decision": "disputed", "at": r.disputed_at, "reason": reason})
        if r.resolved_by_account_id == me:
            upheld = r.status == "confirmed"
            decisions.append(head | {"decision": "upheld" if upheld else "rejected", "at": r.resolved_at})
        elif r.confirmed_by_account_id == me:
            decisions.append(head | {"decision": "confirmed", "at": r.confirmed_at})
    return decisions


async def _offers(work: CaseWork, me: int) -> list[dict[str, Any]]:
    """The offers the staff member made: their terms in figures (never what the rule worked out from the
    borrower's budget, such as whether it is affordable)."""
    table = models.Offer
    rows = await work.session.scalars(select(table).where(table.proposer_account_id == me).order_by(table.id))
    return [
        {
            "case": r.case_id,
            "round": r.round,
            "at": r.created_at,
            "status": r.status,
            "kind": r.plan_kind,
            "months": r.months,
            "monthly_amount": r.monthly_amount,
            "total_repaid": r.total_repaid,
            "amount_waived": r.amount_waived,
            "settlement_amount": r.settlement_amount,
        }
        for r in rows
    ]


async def _actions(work: CaseWork, me: int) -> list[dict[str, Any]]:
    table = models.CaseEvent
    rows = await work.session.execute(
        select(table.case_id, table.kind, table.at).where(table.actor_account_id == me).order_by(table.id)
    )
    return [{"case": case, "kind": kind, "at": at} for case, kind, at in rows.all()]


async def _help_requests(work: CaseWork, me: int) -> list[dict[str, Any]]:
    table = models.HelpRequest
    rows = await work.session.scalars(select(table).where(table.account_id == me).order_by(table.id))
    requests: list[dict[str, Any]] = []
    for r in rows:
        details = json.loads(work.cipher.decrypt("help_requests.details", r.details_enc))
        requests.append(
            {"case": r.case_id, "at": r.created_at, "status": r.status, "message": details.get("message")}
        )
    return requests


async def _broadcasts(work: CaseWork, me: int) -> list[dict[str, Any]]:
    table = models.Broadcast
    mine = select(table).where(table.created_by_account_id == me)
    rows = await work.session.scalars(mine.order_by(table.id))
    return [
        {"id": r.id, "at": r.created_at, "template": r.template, "segment": r.segment, "status": r.status}
        for r in rows
    ]
