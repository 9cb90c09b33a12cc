"""``/quiet`` and ``/quiet off``: opt out of (or back into) non-essential messages.

Reminders before and on an instalment's day, and operators' broadcasts, are non-essential; the notice of a
missed instalment before the agreement would end in default, and everything about a person's own
negotiation, still reach them (dialogs.rules.reminders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.domain import Role
from dialogs.flows.base import Ctx

if TYPE_CHECKING:
    from dialogs.dispatch import Dialogs

ON_WORDS = frozenset({"", "on", "yes", "开", "开启"})
OFF_WORDS = frozenset({"off", "no", "stop", "关", "关闭"})


async def quiet(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    word = argument.strip().lower()
    if ctx.account.role is not Role.BORROWER:  # reminders and broadcasts reach borrowers only
        # What /quiet is, and what staff get instead: nothing of theirs to turn off, but said plainly
        ctx.say(
            "reminders/quiet_staff",
            role=ctx.account.role.value,
            digest_at=ctx.services.digest_time.strftime("%H:%M"),
            digest_zone=ctx.services.digest_zone,
        )
    elif word in ON_WORDS:
        await ctx.turn.set_quiet(True)
        ctx.say("reminders/quiet_on")
    elif word in OFF_WORDS:
        await ctx.turn.set_quiet(False)
        ctx.say("reminders/quiet_off")
    else:
        ctx.say("reminders/quiet_unknown", typed=argument.strip()[:40])
    await dialogs.reask(ctx)
