"""Hardship: what happened, whether it will pass, in the borrower's words, with evidence if they have it."""

from __future__ import annotations

from dialogs.domain import FileRef, Hardship, HardshipReason
from dialogs.flows import application
from dialogs.flows.base import Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only, file, text

MAX_DESCRIPTION = 2000


async def on_reason(ctx: Ctx, picked: Picked) -> str:
    ctx.data["h_reason"] = HardshipReason(picked.id).value
    return "duration"


async def on_duration(ctx: Ctx, picked: Picked) -> str:
    ctx.data["h_lasting"] = picked.id == "lasting"
    return "description"


async def on_description(ctx: Ctx, answer: str | Picked) -> str:
    description = None if isinstance(answer, Picked) else answer
    case = await ctx.case()
    hardship = Hardship(HardshipReason(ctx.data["h_reason"]), bool(ctx.data["h_lasting"]), description)
    await ctx.turn.save_hardship(case.id, hardship)
    return "evidence"


async def ask_evidence(ctx: Ctx) -> None:
    files = await ctx.turn.evidence((await ctx.case()).id)
    ctx.ask("hardship/evidence", Choice("done", "evidence_done" if files else "skip"), count=len(files))


async def on_evidence(ctx: Ctx, answer: FileRef | Picked) -> str:
    if isinstance(answer, Picked):
        return await application.next_target(ctx)
    await ctx.turn.add_evidence((await ctx.case()).id, "hardship", answer)
    ctx.say("hardship/evidence_added", name=answer.file_name or "")
    return "evidence"


HARDSHIP = Flow(
    "hardship",
    {
        "reason": Step(
            prompt("hardship/reason", *(Choice(r.value, f"reason_{r.value}") for r in HardshipReason)),
            buttons_only,
            on_reason,
        ),
        "duration": Step(
            prompt("hardship/duration", Choice("temporary", "temporary"), Choice("lasting", "lasting")),
            buttons_only,
            on_duration,
        ),
        "description": Step(
            prompt("hardship/description", Choice("skip", "skip")),
            text(max_len=MAX_DESCRIPTION, example="I lost my job in October and am looking for work."),
            on_description,
        ),
        "evidence": Step(ask_evidence, file, on_evidence),
    },
    sensitive=True,
)
