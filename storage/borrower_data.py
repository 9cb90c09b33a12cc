"""A borrower's right to see and to erase what is stored about them (PIPL art. 45 and 47)."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.lifecycle import CaseState, can_transition
from dialogs.masking import mask_id_number, mask_name, mask_phone
from storage import models, personal
from storage.accounts import account_row
from storage.case_log import case_entries, moment
from storage.cases import append_event, to_case
from storage.loans import to_loan

if TYPE_CHECKING:
    from storage.payments import PaymentWork
    from storage.staff import StaffWork as CaseWork

# The export's format, in the file itself: 2 has the case log's entries as JSON objects (1: as strings)
# and each case's payments and schedule.
FORMAT = "loanbridge-personal-data/2"
ERASED = "personal_data_erased"  # logged on each case whose personal data was erased
# An agreement binds both sides: its parties' details stay while it runs (PIPL art. 47: a contract in force).
KEEP_FOR_AGREEMENT = frozenset({CaseState.AGREED, CaseState.ACTIVE})


def account_fields(row: models.Account) -> dict[str, Any]:
    """What an export says of the account itself, whoever's it is."""
    return {
        "channel": row.channel,
        "user": row.channel_user_id,
        "role": row.role,
        "language": row.locale,
        "time_zone": row.time_zone,
        "consented_at": row.consented_at,
        "quiet_since": row.quiet_since,  # /quiet: reminders and general notices turned off since then
        "created_at": row.created_at,
    }


async def export(work: CaseWork) -> dict[str, Any]:
    """Everything about the account: its settings, consent, each case with its loan, situation and log."""
    row = await account_row(work.session, work.account.id)
    return {
        "format": FORMAT,
        "account": account_fields(row),
        "cases": [await _case_export(work, case) for case in await _cases(work)],
        "harassment_reports": await _reports(work),
        "failed_verifications": await _failures(work),
    }


async def erase(work: CaseWork, keep_failures_since: datetime) -> domain.Erasure:
    """Withdraw open applications and delete the situation behind them; keep what an agreement needs.

    Kept, and said so: the lender's loan record (the loan book row is the lender's, not ours to erase),
    the bare log of each case (its rows refuse deletion; no personal details are logged), and failed
    verifications since ``keep_failures_since`` (erasing them would lift a lock-out against guessing).
    """
    erased: list[str] = []
    kept: list[int] = []
    loans: set[str] = set()
    for case in await _cases(work):
        state = CaseState(case.state)
        if state in KEEP_FOR_AGREEMENT:
            kept.append(case.id)
            continue
        if can_transition(state, CaseState.WITHDRAWN):
            await work.transition(case.id, CaseState.WITHDRAWN, {"reason": "erasure_requested"})
        if case.loan_id is not None:
            loans.add((await work.loan(case.loan_id)).row.loan_ref)
        for table in (models.Hardship, models.Finances, models.EvidenceFile):
            if await work.delete_rows(table, table.case_id == case.id):
                erased.append(table.__tablename__)
        words = models.CaseMessage
        if await work.delete_rows(
            words, words.case_id == case.id, words.sender_account_id == work.account.id
        ):
            erased.append(words.__tablename__)
        bids = models.BlindBidRow
        await work.session.execute(
            update(bids).where(bids.case_id == case.id).values(borrower_bound_enc=None)
        )
        if case.chosen_plan is not None:
            erased.append("chosen_plan")
        case.chosen_plan = None
        append_event(work.session, case, ERASED, work.actor, work.now)
    reports = models.HarassmentReport
    if await work.delete_rows(reports, reports.account_id == work.account.id):
        erased.append(reports.__tablename__)
    requests = models.HelpRequest  # what they wrote when they asked for a person
    if await work.delete_rows(requests, requests.account_id == work.account.id):
        erased.append(requests.__tablename__)
    # What was sent to them (an export, their situation) and what still waits: this reply is written after.
    outbox = models.OutboxMessage
    if await work.delete_rows(outbox, outbox.account_id == work.account.id):
        erased.append("outbox_messages")
    failures = models.VerificationFailure
    await work.delete_rows(
        failures, failures.account_id == work.account.id, failures.at < keep_failures_since
    )
    lockout_kept = bool(await _failures(work))
    await work.session.execute(
        update(models.Account).where(models.Account.id == work.account.id).values(consented_at=None)
    )
    return domain.Erasure(
        erased=tuple(sorted(set(erased))),
        kept_for_agreement=tuple(kept),
        lenders_loans=tuple(sorted(loans)),
        failed_verifications=lockout_kept,
    )


async def _cases(work: CaseWork) -> list[models.Case]:
    query = select(models.Case).where(models.Case.borrower_account_id == work.account.id)
    return list(await work.session.scalars(query.order_by(models.Case.id)))


async def _failures(work: CaseWork) -> list[datetime]:
    table = models.VerificationFailure
    query = select(table.at).where(table.account_id == work.account.id).order_by(table.at)
    return list(await work.session.scalars(query))


async def _case_export(work: CaseWork, case: models.Case) -> dict[str, Any]:
    events = await work.events(case.id)
    if any(event.kind == ERASED for event in events):
        return await _erased_case_export(work, case, events)
    held = await _held(work)
    loan = await work.session.get(models.Loan, case.loan_id) if case.loan_id else None
    hardship = await personal.hardship(work.session, case.id, work.cipher)
    finances = await personal.finances(work.session, case.id, work.cipher)
    plan = cast("PaymentWork", work)  # the exporting turn is a whole SqlTurn: its payment work too
    return {
        "case": dataclasses.asdict(to_case(case)),
        "loan": dataclasses.asdict(to_loan(loan, work.cipher).row) if loan else None,
        "hardship": dataclasses.asdict(hardship) if hardship else None,
        "finances": dataclasses.asdict(finances) if finances else None,
        "chosen_plan": case.chosen_plan,
        "evidence": [dataclasses.asdict(ref) for ref in await work.evidence(case.id)],
        "offers": [dataclasses.asdict(offer) for offer in await work.offers(case.id)],
        "agreement": dataclasses.asdict(agreement) if (agreement := await work.agreement(case.id)) else None,
        "messages": [dataclasses.asdict(message) for message in await work.messages(case.id)],
        "schedule": [dataclasses.asdict(due) for due in await plan.instalments(case.id)],
        "payments": [dataclasses.asdict(payment) for payment in await plan.payments(case.id)],
        "events": [_event(e, held) for e in events],
        "case_log": await case_log_export(work.session, case.id),
    }


async def _held(work: CaseWork) -> dict[datetime, datetime]:
    """What still waits in the outbox for this person (held for their hours): when it was written, and
    when it goes out. A message's event and its outbox row are written in one turn, at one moment."""
    outbox = models.OutboxMessage
    query = select(outbox.created_at, outbox.not_before).where(
        outbox.account_id == work.account.id, outbox.sent_at.is_(None), outbox.failed.is_(False)
    )
    return {_utc(written): _utc(due) for written, due in (await work.session.execute(query)).all()}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _erased_case_export(
    work: CaseWork, case: models.Case, events: list[domain.CaseEvent]
) -> dict[str, Any]:
    """A case whose personal data was erased: what is left of it, and the lender's record, labelled."""
    lenders: dict[str, Any] | None = None
    if case.loan_id is not None:
        row = (await work.loan(case.loan_id)).row
        lenders = {
            "note": "the lender's own record of the loan, imported from their loan book; not ours to erase",
            "loan_ref": row.loan_ref,
            "borrower_name": mask_name(row.borrower_name),
            "id_number": mask_id_number(row.id_number),
            "phone": mask_phone(row.phone),
        }
    return {
        "case": dataclasses.asdict(to_case(case)),
        "personal_data_erased": True,
        "lenders_loan_record": lenders,
        "events": [_event(e) for e in events],
        "case_log": await case_log_export(work.session, case.id),
    }


HOW_TO_CHECK = (
    "Each entry is what LoanBridge's case log holds for one event of this case, as a JSON object. The log "
    "holds it as compact JSON with sorted keys, UTF-8, not ASCII-escaped (in Python: json.dumps(entry, "
    "sort_keys=True, separators=(',', ':'), ensure_ascii=False)); its leaf hash is SHA-256 of the byte 0x00 "
    "followed by those bytes; the proof is its RFC 6962 audit path "
    "(base64 hashes, leaf side first) to the root of the signed tree head below, which LoanBridge "
    "publishes and signs with its platform key (Ed25519). 'loanbridge audit verify' checks the whole log "
    "the same way."
)


async def case_log_export(session: AsyncSession, case_id: int) -> dict[str, Any] | None:
    """The case's entries in the case log with their inclusion proofs, and the signed head they lead to
    (None before the case's first event is logged). Events logged after that head are not listed yet."""
    entries = await case_entries(session, case_id)
    if not entries:
        return None
    head = entries[0].head
    return {
        "how_to_check": HOW_TO_CHECK,
        "signed_head": {
            "tree_size": head.size,
            "root": base64.b64encode(head.root).decode(),
            "time": moment(head.at),
            "signature": base64.b64encode(head.signature).decode(),
            "key_fingerprint": head.key_fingerprint,
        },
        "entries": [
            {
                "log_index": entry.index,
                "seq": entry.seq,
                # An object, not its text: readable, and the canonical bytes are its compact JSON again.
                "entry": json.loads(entry.entry),
                "proof": [base64.b64encode(node).decode() for node in entry.proof],
            }
            for entry in entries
        ],
    }


def _event(event: domain.CaseEvent, held: dict[datetime, datetime] | None = None) -> dict[str, Any]:
    exported = {
        "at": event.at,
        "kind": event.kind,
        "by": event.actor_role,
        "to_state": event.to_state,
        "details": event.details,
    }
    # Someone else's message held for this person's hours: not delivered yet, and when it will be.
    if event.kind.startswith("message_") and event.actor_role is not domain.Role.BORROWER:
        waiting = (held or {}).get(_utc(event.at))
        if waiting is not None:
            exported["waiting_until"] = waiting
    return exported


async def _reports(work: CaseWork) -> list[dict[str, Any]]:
    table = models.HarassmentReport
    rows = await work.session.scalars(select(table).where(table.account_id == work.account.id))
    return [
        {
            "at": row.created_at,
            "status": row.status,
            **json.loads(work.cipher.decrypt("harassment_reports.details", row.details_enc)),
        }
        for row in rows
    ]
