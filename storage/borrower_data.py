"""A borrower's right to see and to erase what is stored about them (PIPL art. 45 and 47)."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from dialogs import domain
from dialogs.lifecycle import CaseState, can_transition
from storage import models, personal
from storage.accounts import account_row
from storage.cases import to_case
from storage.loans import to_loan

if TYPE_CHECKING:
    from storage.staff import StaffWork as CaseWork

# An agreement binds both sides: its parties' details stay while it runs (PIPL art. 47: a contract in force).
KEEP_FOR_AGREEMENT = frozenset({CaseState.AGREED, CaseState.ACTIVE})


async def export(work: CaseWork) -> dict[str, Any]:
    """Everything about the account: its settings, consent, each case with its loan, situation and log."""
    row = await account_row(work.session, work.account.id)
    return {
        "account": {
            "channel": row.channel,
            "user": row.channel_user_id,
            "role": row.role,
            "language": row.locale,
            "time_zone": row.time_zone,
            "consented_at": row.consented_at,
            "created_at": row.created_at,
        },
        "cases": [await _case_export(work, case) for case in await _cases(work)],
        "harassment_reports": await _reports(work),
    }


async def erase(work: CaseWork) -> domain.Erasure:
    """Withdraw open applications and delete the situation behind them; keep what an agreement needs."""
    erased: list[str] = []
    kept: list[int] = []
    for case in await _cases(work):
        state = CaseState(case.state)
        if state in KEEP_FOR_AGREEMENT:
            kept.append(case.id)
            continue
        if can_transition(state, CaseState.WITHDRAWN):
            await work.transition(case.id, CaseState.WITHDRAWN, {"reason": "erasure_requested"})
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
        case.chosen_plan = None
    reports = models.HarassmentReport
    if await work.delete_rows(reports, reports.account_id == work.account.id):
        erased.append(reports.__tablename__)
    failures = models.VerificationFailure
    await work.delete_rows(failures, failures.account_id == work.account.id)
    await work.session.execute(
        update(models.Account).where(models.Account.id == work.account.id).values(consented_at=None)
    )
    return domain.Erasure(erased=tuple(sorted(set(erased))), kept_for_agreement=tuple(kept))


async def _cases(work: CaseWork) -> list[models.Case]:
    query = select(models.Case).where(models.Case.borrower_account_id == work.account.id)
    return list(await work.session.scalars(query.order_by(models.Case.id)))


async def _case_export(work: CaseWork, case: models.Case) -> dict[str, Any]:
    loan = await work.session.get(models.Loan, case.loan_id) if case.loan_id else None
    hardship = await personal.hardship(work.session, case.id, work.cipher)
    finances = await personal.finances(work.session, case.id, work.cipher)
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
        "events": [
            {"at": e.at, "kind": e.kind, "to_state": e.to_state, "details": e.details}
            for e in await work.events(case.id)
        ],
    }


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
