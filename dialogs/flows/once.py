"""A document (an agreement, the /mydata export) sent once a request: the step that sends it may be asked
again (a slip such as a refused command, a language change, a restart) and then says it was sent and offers
it again, instead of sending the whole document each time. A request is a command, a menu entry or "Send it
again", and clears the mark with :func:`new_request`."""

from __future__ import annotations

from dialogs.flows.base import Ctx


def first_time(ctx: Ctx, sent: str) -> bool:
    """Whether a document is to be sent now: not yet sent since it was last asked for."""
    if ctx.data.get(sent):
        return False
    ctx.data[sent] = True
    return True


def new_request(ctx: Ctx, *sent: str) -> None:
    """The person asked for the document (a command, a menu entry, "Send it again"): send it again."""
    for key in sent:
        ctx.data.pop(key, None)
