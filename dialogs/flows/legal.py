"""Legal information and protection: the loan's real rate against the protected level, collectors' limits,
the borrower's rights, a dispute when the debt is not theirs, and a harassment report for the operator.
"""

from __future__ import annotations

from typing import Any

from dialogs.domain import FileRef
from dialogs.flows import application
from dialogs.flows.base import BACK, Answer, Ask, Choice, Ctx, Flow, Picked, Step, back_to, prompt
from dialogs.flows.inputs import buttons_only, file, text
from dialogs.flows.rates import check_loan, check_view
from dialogs.lifecycle import CaseState

HOW = ("calls", "messages", "contacts", "threats", "shaming", "visits", "other")
DISPUTE_REASONS = ("not_mine", "wrong_amount", "already_paid")

_MENU = (
    Choice("apr", "legal_apr"),
    Choice("collectors", "legal_collectors"),
    Choice("rights", "legal_rights"),
    Choice("dispute", "legal_dispute"),
    Choice("harassment", "legal_harassment"),
    Choice("back", "back"),
)


async def on_menu(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "back":
        return BACK
    if picked.id == "collectors":
        ctx.say("legal/collectors")
        return "menu"
    if picked.id == "rights":
        ctx.say("legal/rights", licensed_level=ctx.services.licensed_level)
        return "menu"
    if picked.id == "apr":
        await _say_apr(ctx)
        return "menu"
    if picked.id == "harassment":
        ctx.data[REPORT] = {}  # a new report starts empty
        return "harassment_who"
    return await _dispute_entry(ctx)


async def _say_apr(ctx: Ctx) -> None:
    case = await application.open_case(ctx) if ctx.account.consented_at else None
    if case is None or case.loan_id is None:
        ctx.say("legal/apr_needs_loan")
        return
    loan = await ctx.turn.loan(case.loan_id)
    ctx.say("legal/apr", **check_view(loan, check_loan(ctx, loan)))


async def _dispute_entry(ctx: Ctx) -> str:
    case = await application.open_case(ctx) if ctx.account.consented_at else None
    if case is None:
        ctx.say("legal/dispute_needs_loan")
        return await application.next_target(ctx)
    if case.state is not CaseState.DRAFT:
        ctx.say("legal/dispute_too_late", state=case.state.value)
        return "menu"
    return "dispute_reason"


async def on_dispute_reason(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "back":
        return back_to("menu")
    case = await ctx.case()
    await ctx.turn.transition(case.id, CaseState.DISPUTED, {"reason": picked.id})
    ctx.say("legal/dispute_opened", dispute=picked.id)
    return back_to("menu")


# The report being written is kept in REPORT until it is filed, so /back within it keeps what was typed.
REPORT = "r"
REQUIRED = ("who", "when", "how")  # without these a report tells the mediator nothing to act on


def _ask_written(template: str, part: str, *, optional: bool = False) -> Ask:
    """Ask for a part of the report, showing what was typed for it before, with "Keep what I wrote".

    An optional part offers "Skip" only while nothing is written: beside words, skip would read as keep.
    """

    async def ask(ctx: Ctx) -> None:
        written = ctx.data.get(REPORT, {}).get(part)
        keep = Choice("keep", "keep_written")
        choices = (keep,) if written else (Choice("skip", "skip"),) if optional else ()
        ctx.ask(template, *choices, written=written)

    return ask


def _keep_or(part: str, following: str) -> Answer:
    """Take the typed words for ``part``; "Keep" leaves what was written, "Skip" leaves it empty."""

    async def answer(ctx: Ctx, typed: str | Picked) -> str:
        report = ctx.data.setdefault(REPORT, {})
        if isinstance(typed, str):
            report[part] = typed
        elif typed.id == "skip":
            report[part] = None
        return following

    return answer


async def ask_how(ctx: Ctx) -> None:
    current = ctx.data.get(REPORT, {}).get("how")  # said, so choosing it again keeps it
    ctx.ask("legal/harassment_how", *(Choice(how, f"how_{how}") for how in HOW), current_how=current)


async def on_how(ctx: Ctx, picked: Picked) -> str:
    ctx.data.setdefault(REPORT, {})["how"] = picked.id
    return "harassment_details"


def _complete(ctx: Ctx) -> bool:
    """Whether the report says enough to act on; if not, the person is told and nothing is sent."""
    report: dict[str, Any] = ctx.data.get(REPORT, {})
    if all(report.get(part) for part in REQUIRED):
        return True
    # Filing it would send the mediator and the lender's compliance contact an empty report.
    ctx.say("legal/harassment_incomplete")
    return False


async def on_evidence(ctx: Ctx, answer: FileRef | Picked) -> str:
    if not _complete(ctx):
        return "harassment_who"
    if isinstance(answer, FileRef):  # "Skip" leaves a file sent before as it is
        ctx.data[REPORT]["evidence"] = {
            "ref": answer.storage_ref,
            "sha256": answer.sha256,
            "name": answer.file_name,
        }
    return "harassment_review"


async def ask_review(ctx: Ctx) -> None:
    """What will be filed, once more before it goes to the mediator and the lender's compliance contact."""
    report: dict[str, Any] = ctx.data.get(REPORT, {})
    filing = {part: report.get(part) for part in (*REQUIRED, "details")}
    ctx.ask(
        "legal/harassment_review",
        Choice("file", "file_report"),
        Choice("change", "change_report"),
        filing={**filing, "evidence": bool(report.get("evidence"))},
    )


async def on_review(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "change":
        return "harassment_who"  # each question shows what was written, with "Keep what I wrote"
    if not _complete(ctx):
        return "harassment_who"
    report: dict[str, Any] = ctx.data[REPORT]
    case = await application.open_case(ctx) if ctx.account.consented_at else None
    number = await ctx.turn.report_harassment(case.id if case else None, report)
    ctx.data.pop(REPORT, None)
    ctx.say("legal/harassment_recorded", number=number)
    return back_to("menu")


LEGAL = Flow(
    "legal",
    {
        "menu": Step(prompt("legal/menu", *_MENU), buttons_only, on_menu),
        "dispute_reason": Step(
            prompt(
                "legal/dispute_reason",
                *(Choice(reason, f"dispute_{reason}") for reason in DISPUTE_REASONS),
                Choice("back", "back"),
            ),
            buttons_only,
            on_dispute_reason,
        ),
        "harassment_who": Step(
            _ask_written("legal/harassment_who", "who"),
            text(max_len=200, example="催收员 王某, 138…"),
            _keep_or("who", "harassment_when"),
        ),
        "harassment_when": Step(
            _ask_written("legal/harassment_when", "when"),
            text(max_len=100, example="2026-11-20 22:30"),
            _keep_or("when", "harassment_how"),
        ),
        "harassment_how": Step(ask_how, buttons_only, on_how),
        "harassment_details": Step(
            _ask_written("legal/harassment_details", "details", optional=True),
            text(max_len=2000),
            _keep_or("details", "harassment_evidence"),
        ),
        "harassment_evidence": Step(
            prompt("legal/harassment_evidence", Choice("skip", "skip")), file, on_evidence
        ),
        "harassment_review": Step(ask_review, buttons_only, on_review),
    },
)
