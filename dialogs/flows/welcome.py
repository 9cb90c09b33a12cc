"""Welcome and consent: what the service is, that it is free, and consent before anything personal."""

from __future__ import annotations

from dialogs.flows import application
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Picked, Step, prompt
from dialogs.flows.inputs import buttons_only


async def on_intro(_ctx: Ctx, picked: Picked) -> str:
    return {"continue": "consent", "legal": "legal:menu", "lang": "language:choose"}[picked.id]


async def on_consent(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "decline":
        ctx.say("welcome/declined")
        return HOME
    await ctx.turn.record_consent()
    ctx.say("welcome/thanks")
    return await application.next_target(ctx)


WELCOME = Flow(
    "welcome",
    {
        "intro": Step(
            prompt(
                "welcome/intro",
                Choice("continue", "continue"),
                Choice("legal", "legal"),
                Choice("lang", "lang"),
            ),
            buttons_only,
            on_intro,
        ),
        "consent": Step(
            prompt("welcome/consent", Choice("agree", "consent_agree"), Choice("decline", "consent_decline")),
            buttons_only,
            on_consent,
        ),
    },
)
