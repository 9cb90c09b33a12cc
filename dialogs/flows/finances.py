"""Finances: income, each kind of essential cost, other debts and savings, then a summary to confirm.

The figures being typed are a working copy of what the store holds for the case: every question offers to
keep the figure it has, however the person arrived (/back, "Correct a figure", "Change budget", a restart),
so nothing typed is ever replaced by a blank or a zero. Confirming saves the copy; a budget that changed
voids the plan chosen on the old one.
"""

from __future__ import annotations

from decimal import Decimal

from dialogs.flows import application
from dialogs.flows.base import Answer, Ask, Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only, money
from dialogs.rules.affordability import Finances, assess
from dialogs.rules.money import ZERO

# (field, the largest believable monthly figure, an example): a typo of three extra zeros is caught.
FIELDS: tuple[tuple[str, Decimal, str], ...] = (
    ("net_monthly_income", Decimal(1_000_000), "6500"),
    ("housing", Decimal(500_000), "1800"),
    ("food", Decimal(200_000), "1200"),
    ("utilities", Decimal(100_000), "300"),
    ("transport", Decimal(100_000), "200"),
    ("children", Decimal(200_000), "800"),
    ("medical", Decimal(500_000), "0"),
    ("other", Decimal(200_000), "150"),
    ("other_debt_payments", Decimal(1_000_000), "0"),
    ("savings", Decimal(100_000_000), "2000"),
)
NAMES = tuple(name for name, _, _ in FIELDS)
ANSWERS = "f"  # the working copy: {"case": case id, "figures": {field: amount}}
CORRECTING = "f_correcting"


async def _figures(ctx: Ctx) -> dict[str, str]:
    """The figures as last given for this case: typed since the last confirmation, else as stored."""
    case_id = (await ctx.case()).id
    copy = ctx.data.get(ANSWERS)
    if not isinstance(copy, dict) or copy.get("case") != case_id:
        stored = await ctx.turn.finances(case_id)
        typed = {name: str(getattr(stored, name)) for name in NAMES} if stored else {}
        copy = ctx.data[ANSWERS] = {"case": case_id, "figures": typed}
    figures: dict[str, str] = copy["figures"]
    return figures


def _ask(name: str, example: str) -> Ask:
    async def ask(ctx: Ctx) -> None:
        current = (await _figures(ctx)).get(name)
        keep = () if current is None else (Choice("keep", "keep_amount", {"amount": current}),)
        ctx.ask(f"finances/{name}", *keep, example=example)

    return ask


def _answer(name: str) -> Answer:
    async def answer(ctx: Ctx, amount: Decimal | Picked) -> str:
        figures = await _figures(ctx)
        if isinstance(amount, Decimal):
            figures[name] = str(amount)
        if ctx.data.pop(CORRECTING, False):
            return "summary"
        following = NAMES.index(name) + 1
        return NAMES[following] if following < len(NAMES) else "summary"

    return answer


def _missing(figures: dict[str, str]) -> str | None:
    return next((name for name in NAMES if name not in figures), None)


def _finances(figures: dict[str, str]) -> Finances:
    return Finances(**{name: Decimal(figures.get(name, "0")) for name in NAMES})


async def ask_summary(ctx: Ctx) -> None:
    ctx.data.pop(CORRECTING, None)  # back at the summary, whichever way: no correction is under way
    finances = _finances(await _figures(ctx))
    affordability = assess(finances, ctx.services.policy.affordable_share)
    ctx.ask(
        "finances/summary",
        Choice("confirm", "confirm"),
        Choice("correct", "correct"),
        figures={name: getattr(finances, name) for name in NAMES},
        essential=finances.essential_expenses,
        disposable=affordability.disposable,
        affordable=affordability.affordable_instalment,
        # A budget that is short reads as the shortfall, never as a negative amount left over.
        shortfall=max(-affordability.disposable, ZERO),
    )


async def on_summary(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "correct":
        return "correct"
    figures = await _figures(ctx)
    if (missing := _missing(figures)) is not None:
        return missing  # never saved as a zero the person did not type
    case_id = (await ctx.case()).id
    finances = _finances(figures)
    changed = await ctx.turn.finances(case_id) != finances
    decided = await application.plan_decided(ctx, case_id)
    await ctx.turn.save_finances(case_id, finances)
    ctx.data.pop(ANSWERS, None)
    if changed and decided:
        application.plan_voided(ctx, "budget")
    return await application.next_target(ctx)


async def on_correct(ctx: Ctx, picked: Picked) -> str:
    ctx.data[CORRECTING] = True
    return picked.id


def _step(name: str, maximum: Decimal, example: str) -> Step:
    return Step(_ask(name, example), money(maximum=maximum, example=example), _answer(name))


FINANCES = Flow(
    "finances",
    {
        **{name: _step(name, maximum, example) for name, maximum, example in FIELDS},
        "summary": Step(ask_summary, buttons_only, on_summary),
        "correct": Step(
            prompt("finances/correct", *(Choice(name, f"field_{name}") for name in NAMES)),
            buttons_only,
            on_correct,
        ),
    },
    sensitive=True,
)
