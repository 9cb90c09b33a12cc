"""Legal information and protection: the loan's real rate against the protected level, collectors' limits,
the borrower's rights, a dispute when the debt is not theirs, and a harassment report for the operator.
"""

from __future__ import annotations

from typing import Any

from dialogs.domain import FileRef
from dialogs.flows import application
from dialogs.flows.base import BACK, Choice, Ctx, Flow, Picked, Step, back_to, prompt
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


async def on_who(ctx: Ctx, who: str) -> str:
    ctx.data.setdefault(REPORT, {})["who"] = who
    return "harassment_when"


async def on_when(ctx: Ctx, when: str) -> str:
    ctx.data.setdefault(REPORT, {})["when"] = when
    return "harassment_how"


async def on_how(ctx: Ctx, picked: Picked) -> str:
    ctx.data.setdefault(REPORT, {})["how"] = picked.id
    return "harassment_details"


async def on_details(ctx: Ctx, answer: str | Picked) -> str:
    ctx.data.setdefault(REPORT, {})["details"] = None if isinstance(answer, Picked) else answer
    return "harassment_evidence"


async def on_evidence(ctx: Ctx, answer: FileRef | Picked) -> str:
    report: dict[str, Any] = ctx.data.get(REPORT, {})
    if not all(report.get(part) for part in REQUIRED):
        # Filing it would send the mediator and the lender's compliance contact an empty report.
        ctx.say("legal/harassment_incomplete")
        return "harassment_who"
    if isinstance(answer, FileRef):
        report["evidence"] = {"ref": answer.storage_ref, "sha256": answer.sha256, "name": answer.file_name}
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
            prompt("legal/harassment_who"), text(max_len=200, example="催收员 王某, 138…"), on_who
        ),
        "harassment_when": Step(
            prompt("legal/harassment_when"), text(max_len=100, example="2026-11-20 22:30"), on_when
        ),
        "harassment_how": Step(
            prompt("legal/harassment_how", *(Choice(how, f"how_{how}") for how in HOW)), buttons_only, on_how
        ),
        "harassment_details": Step(
            prompt("legal/harassment_details", Choice("skip", "skip")), text(max_len=2000), on_details
        ),
        "harassment_evidence": Step(
            prompt("legal/harassment_evidence", Choice("skip", "skip")), file, on_evidence
        ),
    },
)
