"""A case's hardship and finances: the borrower's own words and figures, encrypted at rest."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.domain import Actor, Hardship, HardshipReason
from dialogs.errors import InvalidInput
from dialogs.lifecycle import CaseState
from dialogs.rules.affordability import Finances
from storage import models
from storage.cases import append_event, case_row, check_party
from storage.crypto import FieldCipher

# The application can be edited while it is a draft, or when the operator asked for more information.
EDITABLE = frozenset({CaseState.DRAFT, CaseState.SUBMITTED})
MAX_DESCRIPTION = 4000


async def editable_case(session: AsyncSession, case_id: int, actor: Actor) -> models.Case:
    case = await case_row(session, case_id, for_update=True)
    await check_party(session, case, actor)
    if CaseState(case.state) not in EDITABLE:
        raise InvalidInput(f"the application can no longer be changed (the case is {case.state})")
    return case


def void_plan(session: AsyncSession, case: models.Case, actor: Actor, now: datetime, changed: str) -> None:
    """A plan was judged on the situation that just changed: it no longer holds, so it is dropped.

    Enforced here rather than only in the dialogs so that no path (an edit after the operator asked for
    more, a future channel) can leave a plan marked affordable by figures the case no longer has.
    """
    if case.chosen_plan is None:
        return
    case.chosen_plan = None
    case.updated_at = now
    append_event(session, case, "plan_voided", actor, now, {"changed": changed})


async def save_hardship(
    session: AsyncSession, case_id: int, hardship: Hardship, actor: Actor, cipher: FieldCipher, now: datetime
) -> None:
    if hardship.description is not None and len(hardship.description) > MAX_DESCRIPTION:
        raise InvalidInput(f"the description is limited to {MAX_DESCRIPTION} characters")
    case = await editable_case(session, case_id, actor)
    description = (
        cipher.encrypt("hardships.description", hardship.description)
        if hardship.description is not None
        else None
    )
    row = await session.get(models.Hardship, case_id)
    if row is None:
        row = models.Hardship(case_id=case_id, reason="", lasting=False, updated_at=now)
        session.add(row)
    elif (row.reason, row.lasting) != (HardshipReason(hardship.reason).value, hardship.lasting):
        void_plan(session, case, actor, now, "hardship")
    row.reason, row.lasting, row.description_enc, row.updated_at = (
        HardshipReason(hardship.reason).value,
        hardship.lasting,
        description,
        now,
    )
    # The log says that it changed, not what: the reason is personal data, and log rows cannot be erased.
    append_event(session, case, "hardship_saved", actor, now)
    await session.flush()


async def hardship(session: AsyncSession, case_id: int, cipher: FieldCipher) -> Hardship | None:
    row = await session.get(models.Hardship, case_id)
    if row is None:
        return None
    description = (
        cipher.decrypt("hardships.description", row.description_enc) if row.description_enc else None
    )
    return Hardship(reason=HardshipReason(row.reason), lasting=row.lasting, description=description)


async def save_finances(
    session: AsyncSession, case_id: int, finances_: Finances, actor: Actor, cipher: FieldCipher, now: datetime
) -> None:
    case = await editable_case(session, case_id, actor)
    figures = {name: str(value) for name, value in dataclasses.asdict(finances_).items()}
    blob = cipher.encrypt("finances.figures", json.dumps(figures, sort_keys=True))
    row = await session.get(models.Finances, case_id)
    if row is None:
        session.add(models.Finances(case_id=case_id, figures_enc=blob, updated_at=now))
    else:
        if await finances(session, case_id, cipher) != finances_:
            void_plan(session, case, actor, now, "finances")
        row.figures_enc, row.updated_at = blob, now
    append_event(session, case, "finances_saved", actor, now)
    await session.flush()


async def finances(session: AsyncSession, case_id: int, cipher: FieldCipher) -> Finances | None:
    row = await session.get(models.Finances, case_id)
    if row is None:
        return None
    figures = json.loads(cipher.decrypt("finances.figures", row.figures_enc))
    return Finances(**{name: Decimal(value) for name, value in figures.items()})
