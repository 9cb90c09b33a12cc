"""The terminal channel: a first-class channel on the same store, for trying the product and for scripts.

Buttons are shown as numbered choices; typing the number presses the button. ``/file PATH`` sends a file
(as evidence). Text from standard input is read line by line, so a script can drive a whole conversation.
"""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.rendering import Rendered, RenderedButton
from dialogs.domain import Account, Channel
from dialogs.messages import Inbound, InboundKind

_TAGS = re.compile(r"</?[a-z][^>]*>")
MAX_LINE = 100_000


def plain(text: str) -> str:
    """Rendered HTML as terminal text."""
    return html.unescape(_TAGS.sub("", text))


class TerminalChannel:
    """Turns typed lines into :class:`Inbound` and prints what delivery sends."""

    def __init__(self, user: str, out: TextIO, locale_hint: str | None = None) -> None:
        self.user = user
        self._locale_hint = locale_hint
        self._out = out
        self._buttons: tuple[RenderedButton, ...] = ()
        self._session = uuid.uuid4().hex[:12]
        self._count = 0

    def serves(self, recipient: Account) -> bool:
        # Someone else's terminal: their messages stay in the outbox until they open theirs.
        return recipient.channel_user_id == self.user

    async def send(self, recipient: Account, message: Rendered) -> None:
        text = plain(message.text)
        if message.file_name:
            text = f"--- {message.file_name} ---\n{text}\n--- end of {message.file_name} ---"
        self._out.write(text + "\n")
        if message.buttons:
            self._buttons = message.buttons
            for number, button in enumerate(message.buttons, 1):
                self._out.write(f"  {number}) {plain(button.label)}\n")
        self._out.write("\n")
        self._out.flush()

    def inbound(self, line: str) -> Inbound | None:
        """One typed line as a message, or None for an empty line."""
        line = line.rstrip("\r\n")[:MAX_LINE]
        stripped = line.strip()
        if not stripped:
            return None
        self._count += 1
        key = f"{self._session}-{self._count}"
        base = {
            "channel": Channel.TERMINAL,
            "user_id": self.user,
            "chat_id": self.user,
            "key": key,
            "locale_hint": self._locale_hint,
        }
        if stripped.startswith("/file"):
            return Inbound(**base, kind=InboundKind.FILE, extra=_file_extra(stripped[5:].strip()))
        if stripped.startswith("/"):
            return Inbound(**base, kind=InboundKind.COMMAND, payload=stripped)
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._buttons):
            return Inbound(**base, kind=InboundKind.CHOICE, payload=self._buttons[int(stripped) - 1].choice)
        return Inbound(**base, kind=InboundKind.TEXT, payload=line)


def _file_extra(path_text: str) -> dict[str, object]:
    path = Path(path_text).expanduser()
    try:
        content = path.read_bytes()
    except OSError:
        return {}
    return {
        "ref": str(path.resolve()),
        "name": path.name,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


async def run_lines(
    channel: TerminalChannel,
    lines: Callable[[], Awaitable[str]],
    handle: Callable[[Inbound], Awaitable[None]],
) -> None:
    """Feed lines to the engine until end of input (or ``/quit``)."""
    while True:
        line = await lines()
        if not line or line.strip() in ("/quit", "/exit"):
            return
        inbound = channel.inbound(line)
        if inbound is not None:
            await handle(inbound)
