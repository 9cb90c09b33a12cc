"""``/broadcast``: a mediator sends a notice to a segment of borrowers from chat, as the CLI does.

Segment (a quick choice, or typed: ``lender:NAME``, ``state:active``…), template, a preview (how many, by
channel and language, how many are outside their hours or opted out, and the message itself as the first
of them in each language would read it, the mediator's own language first), confirmation, then progress on
request and a report when it is finished (sent by the running senders: ``serve``, and for the terminal
``scheduler`` or ``chat`` too). ``/broadcast N`` shows broadcast N's progress. Mediators only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogs.broadcasts import TEMPLATES, Preview, Segment, parse_segment
from dialogs.domain import Role
from dialogs.errors import InvalidInput, NotFound, PermissionDenied
from dialogs.flows.base import HOME, Choice, Ctx, Flow, Invalid, Picked, Step
from dialogs.flows.inputs import buttons_only, text
from dialogs.flows.review import OPERATORS
from dialogs.messages import Inbound

if TYPE_CHECKING:
    from dialogs.dispatch import Dialogs

SEGMENT = "b_segment"  # the segment as typed (its text form)
TEMPLATE = "b_template"
SENT = "b_id"  # the broadcast whose progress is shown
QUICK = ("all", "due:3", "due:7", "overdue")
MAX_SEGMENT = 250
EXAMPLE = "lender:Demo Lender"


async def ask_segment(ctx: Ctx) -> None:
    quick = [Choice(f"s{n}", "broadcast_segment", {"segment": s}) for n, s in enumerate(QUICK)]
    ctx.ask("broadcast/segment", *quick, Choice("menu", "menu"))


def typed_segment(ctx: Ctx, inbound: Inbound) -> Segment:
    typed = text(max_len=MAX_SEGMENT, example=EXAMPLE)(ctx, inbound)
    try:
        return parse_segment(typed)
    except InvalidInput:
        raise Invalid("broadcast/bad_segment", typed=typed[:60]) from None


async def on_segment(ctx: Ctx, answer: Picked | Segment) -> str:
    if isinstance(answer, Picked):
        if answer.id == "menu":
            return HOME
        answer = parse_segment(QUICK[int(answer.id.removeprefix("s"))])
    await _preview(ctx, answer)  # a lender that does not exist is said now, not after the template
    ctx.data[SEGMENT] = answer.text()
    return "template"


async def ask_template(ctx: Ctx) -> None:
    choices = [Choice(f"t_{name}", f"broadcast_template_{name}") for name in TEMPLATES]
    ctx.ask("broadcast/template", *choices, Choice("back", "broadcast_change"), segment=ctx.data[SEGMENT])


async def on_template(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "back":
        return "segment"
    ctx.data[TEMPLATE] = picked.id.removeprefix("t_")
    return "preview"


async def ask_preview(ctx: Ctx) -> None:
    segment, template = parse_segment(ctx.data[SEGMENT]), ctx.data[TEMPLATE]
    preview = await _preview(ctx, segment, template)
    if not preview.total:
        ctx.ask(
            "broadcast/nobody",
            Choice("change", "broadcast_change"),
            Choice("menu", "menu"),
            segment=segment.text(),
        )
        return
    for locale, sample in _samples(ctx, preview, template):
        ctx.say("broadcast/sample_intro", sample_locale=locale, sample_text=sample)
    send = [Choice("send", "broadcast_send")] if preview.reached else []  # all skipped: nothing to send
    ctx.ask(
        "broadcast/preview",
        *send,
        Choice("change", "broadcast_change"),
        Choice("menu", "menu"),
        **_counts(preview),
        segment=segment.text(),
    )


def _samples(ctx: Ctx, preview: Preview, template: str) -> list[tuple[str, str]]:
    """The message rendered for the first recipient of each language among those who will get it, as
    they will read it (the mediator's own language first)."""
    documents = ctx.services.documents
    if documents is None:
        raise PermissionDenied("broadcast samples cannot be shown without a document renderer")
    mine = ctx.account.locale
    return [
        (locale, documents.document(f"broadcast/{template}", dict(figures), locale, ctx.account.time_zone))
        for locale, figures in sorted(preview.samples.items(), key=lambda item: (item[0] != mine, item[0]))
    ]


async def on_preview(ctx: Ctx, picked: Picked) -> str:
    if picked.id == "menu":
        return HOME
    if picked.id == "change":
        return "segment"
    segment = parse_segment(ctx.data[SEGMENT])
    broadcast_id = await ctx.turn.create_broadcast(segment, ctx.data[TEMPLATE])
    ctx.data[SENT] = broadcast_id
    return "progress"


async def ask_progress(ctx: Ctx) -> None:
    progress = await ctx.turn.broadcast_progress(int(ctx.data[SENT]))
    ctx.ask(
        "broadcast/progress",
        Choice("refresh", "broadcast_refresh"),
        Choice("menu", "menu"),
        broadcast=progress.id,
        status=progress.status.value,
        segment=progress.segment,
        starts_at=progress.scheduled_at.isoformat() if progress.scheduled_at else None,
        **_progress_counts(progress.figures()),
    )


async def on_progress(_ctx: Ctx, picked: Picked) -> str:
    return HOME if picked.id == "menu" else "progress"


async def _preview(ctx: Ctx, segment: Segment, template: str | None = None) -> Preview:
    try:
        return await ctx.turn.broadcast_preview(segment, template)
    except NotFound:
        names = await ctx.turn.lender_names()
        raise Invalid("staff/no_such_lender", name=(segment.value or "")[:100], lenders=names) from None


def _progress_counts(figures: dict[str, int]) -> dict[str, int]:
    """The counts as the progress message names them: those held for their hours are "waiting"."""
    counts = dict(figures)
    counts["waiting_hours"] = counts.pop("held")
    return counts


def _counts(preview: Preview) -> dict[str, Any]:
    groups = [
        {"channel": channel, "locale": locale, "count": count}
        for (channel, locale), count in sorted(preview.by_channel_locale.items())
    ]
    return {
        "in_segment": preview.total,
        "reached": preview.reached,
        "groups": groups,
        "outside": preview.outside_window,
        "opted_out": preview.opted_out,
        "unreachable": preview.unreachable,
        "already_waiting": preview.already_waiting,
        "waiting_in": ", ".join(str(i) for i in preview.waiting_in),
    }


BROADCAST = Flow(
    "broadcast",
    {
        "segment": Step(ask_segment, typed_segment, on_segment),
        "template": Step(ask_template, buttons_only, on_template),
        "preview": Step(ask_preview, buttons_only, on_preview, returnable=False),
        "progress": Step(ask_progress, buttons_only, on_progress, returnable=False),
    },
    roles=OPERATORS,
)


async def broadcast_command(dialogs: Dialogs, ctx: Ctx, argument: str) -> None:
    """``/broadcast``: a new one; ``/broadcast N``: broadcast N's progress. Mediators only."""
    if ctx.account.role is not Role.OPERATOR:
        ctx.say("errors/not_for_role", role=ctx.account.role.value)
        await dialogs.reask(ctx)
        return
    number = argument.strip().lstrip("#")
    if not number:
        await dialogs.goto(ctx, "broadcast:segment")
        return
    try:
        if not number.isdigit() or len(number) > 9:
            raise NotFound(number)
        ctx.data[SENT] = (await ctx.turn.broadcast_progress(int(number))).id
    except NotFound:
        ctx.say("broadcast/unknown", broadcast=number[:20])
        await dialogs.reask(ctx)
        return
    await dialogs.goto(ctx, "broadcast:progress")
