"""/lang: the language every message is written in, for this person from now on."""

from __future__ import annotations

from dialogs.domain import Role
from dialogs.flows.base import BACK, Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only
from dialogs.locales import LOCALES


async def on_choose(ctx: Ctx, picked: Picked) -> str:
    await ctx.turn.set_locale(picked.id)
    ctx.say("language/changed")
    return BACK


LANGUAGE = Flow(
    "language",
    {
        "choose": Step(
            prompt("language/choose", *(Choice(locale, f"locale_{locale}") for locale in LOCALES)),
            buttons_only,
            on_choose,
        )
    },
    roles=frozenset(Role),
)
