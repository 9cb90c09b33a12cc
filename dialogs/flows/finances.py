"""Finances: income, each kind of essential cost, other debts and savings, then a summary to confirm."""

from __future__ import annotations

from decimal import Decimal

from dialogs.flows import application
from dialogs.flows.base import Answer, Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only, money
from dialogs.rules.affordability import Finances, assess

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
ANSWERS = "f"


def _figures(ctx: Ctx) -> dict[str, str]:
    figures: dict[str, str] = ctx.data.setdefault(ANSWERS, {})
    return figures


def _answer(name: str) -> Answer:
    async def answer(ctx: Ctx, amount: Decimal) -> str:
        _figures(ctx)[name] = str(amount)
        if ctx.data.pop("f_correcting", False):
            return "summary"
        following = NAMES.index(name) + 1
        return NAMES[following] if following < len(NAMES) else "summary"

    return answer


def _finances(ctx: Ctx) -> Finances:
    figures = _figures(ctx)
    return Finances(**{name: Decimal(figures.get(name, "0")) for name in NAMES})


async def ask_summary(ctx: Ctx) -> None:
    finances = _finances(ctx)
    affordability = assess(finances, ctx.services.policy.affordable_share)
    ctx.ask(
        "finances/summary",
        Choice("confirm", "confirm"),
        Choice("correct", "correct"),
        figures={name: getattr(finances, name) for name in NAMES},
        essential=finances.essential_expenses,
        disposable=affordability.disposable,
        affordable=affordability.affordable_instalment,
    )


async def on_summary(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "correct":
        return "correct"
    await ctx.turn.save_finances((await ctx.case()).id, _finances(ctx))
    ctx.data.pop(ANSWERS, None)
    return await application.next_target(ctx)


async def on_correct(ctx: Ctx, picked: Picked) -> str:
    ctx.data["f_correcting"] = True
    return picked.id


def _step(name: str, maximum: Decimal, example: str) -> Step:
    return Step(
        prompt(f"finances/{name}", example=example), money(maximum=maximum, example=example), _answer(name)
    )


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
