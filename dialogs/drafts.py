"""Abandoned drafts: one kind reminder after a day of silence; after thirty days the draft is withdrawn."""

from __future__ import annotations

from datetime import datetime, timedelta

from dialogs.dispatch import Dialogs
from dialogs.engine import Engine, SystemAction
from dialogs.lifecycle import CaseState
from dialogs.ports import Turn, TurnStore

REMIND_AFTER = timedelta(hours=24)
EXPIRE_AFTER = timedelta(days=30)
SWEEP_LIMIT = 500


async def remind(dialogs: Dialogs, turn: Turn) -> None:
    conv = await turn.conversation()
    ctx = dialogs.context(turn, conv, None)
    ctx.say("drafts/reminder")
    turn.save_conversation(conv)


def expire(case_id: int) -> SystemAction:
    async def action(dialogs: Dialogs, turn: Turn) -> None:
        case = await turn.case(case_id)
        if case.state is not CaseState.DRAFT:
            return
        await turn.transition(case_id, CaseState.WITHDRAWN, {"reason": "draft_expired"})
        conv = await turn.conversation()
        if conv.case_id == case_id:
            conv.case_id = None
        dialogs.context(turn, conv, None).say("drafts/expired", case_id=case_id)
        turn.save_conversation(conv)

    return action


async def sweep(engine: Engine, store: TurnStore, now: datetime) -> int:
    """Send due reminders and withdraw expired drafts; returns how many people were written to."""
    count = 0
    for account_id in await store.stale_drafts(now - REMIND_AFTER, SWEEP_LIMIT):
        await engine.run_system(account_id, f"draft-reminder:{account_id}:{now:%Y%m%d%H}", remind)
        count += 1
    for account_id, case_id in await store.expired_drafts(now - EXPIRE_AFTER, SWEEP_LIMIT):
        await engine.run_system(account_id, f"draft-expired:{case_id}", expire(case_id))
        count += 1
    return count
