"""Hardship: what happened, whether it will pass, in the borrower's words, with evidence if they have it.

Each question shows what the store holds for the case (the reason and duration chosen, the words written)
and keeps it unless the person changes it, however they arrived; nothing is saved until the description
step, so the answers so far are a working copy seeded from the store.
"""

from __future__ import annotations

from typing import Any

from dialogs.domain import FileRef, Hardship, HardshipReason
from dialogs.flows import application
from dialogs.flows.base import Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only, file, text
from dialogs.rules.harassment_words import describes_harassment

MAX_DESCRIPTION = 2000
ANSWERS = "h"  # the working copy: {"case": case id, "reason": …, "lasting": …, "description": …}
_REASONS = tuple(Choice(r.value, f"reason_{r.value}") for r in HardshipReason)


async def _answers(ctx: Ctx) -> dict[str, Any]:
    """The answers as last given for this case: chosen since the last save, else as stored."""
    case_id = (await ctx.case()).id
    copy = ctx.data.get(ANSWERS)
    if not isinstance(copy, dict) or copy.get("case") != case_id:
        stored = await ctx.turn.hardship(case_id)
        copy = {"case": case_id}
        if stored is not None:
            copy |= {
                "reason": stored.reason.value,
                "lasting": stored.lasting,
                "description": stored.description,
            }
        ctx.data[ANSWERS] = copy
    return copy


async def ask_reason(ctx: Ctx) -> None:
    ctx.ask("hardship/reason", *_REASONS, current_reason=(await _answers(ctx)).get("reason"))


async def on_reason(ctx: Ctx, picked: Picked) -> str:
    (await _answers(ctx))["reason"] = HardshipReason(picked.id).value
    return "duration"


async def ask_duration(ctx: Ctx) -> None:
    ctx.ask(
        "hardship/duration",
        Choice("temporary", "temporary"),
        Choice("lasting", "lasting"),
        current_lasting=(await _answers(ctx)).get("lasting"),
    )


async def on_duration(ctx: Ctx, picked: Picked) -> str:
    (await _answers(ctx))["lasting"] = picked.id == "lasting"
    return "description"


async def ask_description(ctx: Ctx) -> None:
    written = (await _answers(ctx)).get("description")
    # Beside a story, "Skip" read as "leave it as it is" and erased it: there, removing says so, and asks.
    choices = (Choice("keep", "keep_description"), Choice("remove", "remove_description"))
    ctx.ask(
        "hardship/description",
        *(choices if written else (Choice("skip", "skip"),)),
        current_description=written,
        limit=MAX_DESCRIPTION,  # said before it is asked: a long story is not cut off by surprise
    )


async def on_description(ctx: Ctx, answer: str | Picked) -> str:
    answers = await _answers(ctx)
    if isinstance(answer, Picked) and answer.id == "remove":
        return "remove_description"
    if isinstance(answer, str):
        answers["description"] = answer
    elif answer.id == "skip":  # offered only when nothing is written: nothing is lost
        answers["description"] = None
    return await _save(ctx, answers, answer if isinstance(answer, str) else None)


async def on_remove_description(ctx: Ctx, picked: Picked) -> str:
    answers = await _answers(ctx)
    if picked.id == "remove":
        answers["description"] = None
    return await _save(ctx, answers, None)


async def _save(ctx: Ctx, answers: dict[str, Any], typed: str | None) -> str:
    """Save the working copy as the case's hardship (the plan chosen is set aside if it may change)."""
    if "reason" not in answers or "lasting" not in answers:
        return "reason" if "reason" not in answers else "duration"
    case_id = answers["case"]
    hardship = Hardship(HardshipReason(answers["reason"]), bool(answers["lasting"]), answers["description"])
    before = await ctx.turn.hardship(case_id)
    decided = await application.plan_decided(ctx, case_id)
    await ctx.turn.save_hardship(case_id, hardship)
    ctx.data.pop(ANSWERS, None)
    if decided and before is not None and changes_plans(before, hardship):
        application.plan_voided(ctx, "hardship")
    if typed is not None:
        acknowledge(ctx, typed)
    return "evidence"


def acknowledge(ctx: Ctx, story: str) -> None:
    """Say the story was received; if it tells of harassment, say how to report it (it is not allowed)."""
    ctx.say("hardship/received")
    if describes_harassment(story):
        ctx.say("hardship/harassment")


def changes_plans(before: Hardship, after: Hardship) -> bool:
    """Whether the plans offered may differ: the reason and duration shape them, the words do not."""
    return (before.reason, before.lasting) != (after.reason, after.lasting)


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
        "reason": Step(ask_reason, buttons_only, on_reason),
        "duration": Step(ask_duration, buttons_only, on_duration),
        "description": Step(
            ask_description,
            text(max_len=MAX_DESCRIPTION, example="I lost my job in October and am looking for work."),
            on_description,
        ),
        # Not on the /back trail: Back from the evidence returns to the story, not to this question.
        "remove_description": Step(
            prompt(
                "hardship/remove_description",
                Choice("remove", "remove_description_confirm"),
                Choice("keep", "delete_keep"),
            ),
            buttons_only,
            on_remove_description,
            returnable=False,
        ),
        "evidence": Step(ask_evidence, file, on_evidence),
    },
    sensitive=True,
)
