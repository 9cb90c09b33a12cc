"""/mydata and /delete: see everything stored about you, and have it erased where the law allows."""

from __future__ import annotations

import json

from dialogs.flows.base import BACK, HOME, Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only
from dialogs.flows.verify import LOCK_WINDOW

EXPORT_FILE = "loanbridge-my-data.json"


async def ask_export(ctx: Ctx) -> None:
    exported = await ctx.turn.personal_data()
    document = json.dumps(exported, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    ctx.say("mydata/export_file", file_name=EXPORT_FILE, document=document)
    ctx.ask("mydata/export", Choice("back", "back"), Choice("menu", "menu"), cases=len(exported["cases"]))


async def on_export(_ctx: Ctx, picked: Picked) -> str:
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
