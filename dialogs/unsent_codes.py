"""A one-time code whose SMS could not be sent: the person is told through the front door, kindly.

The SMS leaves after the turn that drew the code has replied (see :class:`dialogs.ports.CodeSender`), so a
failure comes back later, as a system turn of its own.
"""

from __future__ import annotations

from dialogs.dispatch import Dialogs
from dialogs.engine import SystemAction
from dialogs.flows.verify import mark_not_sent
from dialogs.ports import Turn


def code_not_sent(one_time: str) -> SystemAction:
    """Tell the person the code did not go, if they still wait for it; no attempt of theirs is counted."""

    async def action(dialogs: Dialogs, turn: Turn) -> None:
        conv = await turn.conversation()
        if await mark_not_sent(dialogs.context(turn, conv, None), one_time):
            turn.save_conversation(conv)

    return action
