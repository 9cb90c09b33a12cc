"""The terminal channel: a first-class channel on the same store, for trying the product and for scripts.

Buttons are shown as numbered choices; typing the number presses the button. A notice that arrives while
a question is on screen (someone else's move) shows its buttons with letters, pressed by typing the
letter (or words naming one clearly: bot.typed_choices), so the numbers keep answering the question.
Letters run on across notices (a, b, then c, d on the next) and never repeat in a session: with three
notices on screen, ``a`` can only mean the first one's button. A typed choice is marked as typed
(``extra["typed"]``): the dialogs ask once more before a typed "confirm received" decides a payment (a
letter, a number or words are easy to get wrong; a tap on Telegram is not), after checking it is still to
be decided, so a stale one is told at once.
``/file PATH`` sends a file (as evidence) and ``/quit`` leaves. A document the bot sends (an agreement,
the /mydata export) is shown and, given a folder, saved there as a file, and the message says its full
path. Text from standard input is read line by line, so a script can drive a whole conversation. What is
printed carries other people's words (a borrower's story on the mediator's screen, relayed messages):
control characters and direction overrides in it are shown, never obeyed.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from bot.channels.terminal_files import FileRefused, file_facts, save_document
from bot.rendering import Rendered, RenderedButton, Renderer
from bot.typed_choices import TypedMatch, shown_marks, typed_match
from dialogs.domain import Account, Channel
from dialogs.messages import Inbound, InboundKind, Outbound

_TAGS = re.compile(r"</?[a-z][^>]*>")
MAX_LINE = 100_000
COMMANDS = ("file", "quit")  # the terminal's own commands, which /help lists here and nowhere else
QUIT = ("/quit", "/exit")
# C0 controls but tab and newline, DEL, C1 controls (a lone CSI is as good as ESC [ to some terminals),
# and the marks that reorder text: a story could otherwise move the cursor, retitle the window, hide a link
# (OSC 8) or make "¥3000" read "0003¥".
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_REPLACEMENT = "\ufffd"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PROMPT = "> "
MACHINE_READABLE = (".json",)  # saved, not printed (the message beside it says it in words)
TYPED = {"typed": True}  # a choice made by typing, not by a tap (dialogs.flows.payment_actions)
RECENT_LETTERED = 6  # the latest notices' lettered choices that words may name and a refusal lists again


def letter_for(index: int) -> str:
    """The ``index``-th letter label: a … z, then aa, ab … (never the same twice)."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, len(LETTERS))
        label = LETTERS[rest] + label
    return label


def _is_global(button: RenderedButton) -> bool:
    """A button that names its case and works at any step (``N.g:…``): what notices carry."""
    return button.choice.partition(".")[2].startswith("g:")


def plain(text: str) -> str:
    """Rendered HTML as terminal text."""
    return html.unescape(_TAGS.sub("", text))


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the control picture: ESC shows as ␛, so the mediator sees it was there
    return "\u2421" if code == 0x7F else _REPLACEMENT


def neutralised(text: str) -> str:
    """``text`` safe to print: every control or reordering mark is replaced by a visible sign."""
    return _UNSAFE.sub(_visible, text)


def for_terminal(text: str) -> str:
    """Rendered HTML as terminal text that cannot drive the terminal."""
    return neutralised(plain(text))


class TerminalChannel:
    """Turns typed lines into :class:`Inbound` and prints what delivery sends."""

    commands = COMMANDS

    def __init__(
        self,
        user: str,
        out: TextIO,
        locale_hint: str | None = None,
        *,
        files: Path | None = None,
        renderer: Renderer | None = None,
    ) -> None:
        self.user = user
        # Where received documents are saved (bot.channels.terminal_files); None: shown, not saved.
        self.files = files
        self._renderer = renderer
        self._locale_hint = locale_hint
        self._out = out
        self._buttons: tuple[RenderedButton, ...] = ()
        self._aside: dict[str, RenderedButton] = {}  # every notice's buttons this session, by letter
        self._reading = False  # the prompt is on screen: a notice arriving now prints it again below
        self.recipient: Account | None = None  # as delivery last saw them (their language now)
        # The buttons that count are those of the latest message with buttons since the person last typed:
        # a question without buttons (an amount, the months) leaves none, so a typed "6" is its answer.
        self._since_typed = False
        self._session = uuid.uuid4().hex[:12]
        self._count = 0

    def serves(self, recipient: Account) -> bool:
        # Someone else's terminal: their messages stay in the outbox until they open theirs.
        return recipient.channel_user_id == self.user

    async def send(self, recipient: Account, message: Rendered) -> None:
        self.recipient = recipient
        text = for_terminal(message.text)
        if self._reading:
            self._out.write("\n")  # off the prompt's line
        if message.file_name:
            text = self._document(recipient, message.file_name, plain(message.text), text)
        self._out.write(text + "\n")
        if message.buttons and not self._since_typed and all(_is_global(b) for b in message.buttons):
            # A notice arriving in the middle of a question (someone else's move): its buttons get
            # letters, and the numbers keep answering the question on screen.
            for button in message.buttons:
                letter = letter_for(len(self._aside))
                self._aside[letter] = button
                self._out.write(f"  {letter}) {for_terminal(button.label)}\n")
        else:
            if message.buttons or self._since_typed:
                self._buttons, self._since_typed = message.buttons, False
            for number, button in enumerate(message.buttons, 1):
                self._out.write(f"  {number}) {for_terminal(button.label)}\n")
        self._out.write("\n")
        if self._reading:
            self._out.write(PROMPT)  # the person was typing: show where to go on
        self._out.flush()

    def _document(self, recipient: Account, file_name: str, document: str, shown: str) -> str:
        """A received document between its name and its end, in the reader's language, and where it was
        saved. A saved machine-readable file (the /mydata JSON, tens of KB) is not printed: it would scroll
        the words that explain it off the screen."""
        name = neutralised(file_name)
        saved = self._saved(self.files, recipient, file_name, document) if self.files is not None else None
        if saved is not None and saved[0] and file_name.endswith(MACHINE_READABLE):
            size = round(len(document.encode("utf-8")) / 1024) or 1
            return self._words(recipient, "terminal/document_not_shown", name=name, kilobytes=size) + (
                "\n" + saved[1]
            )
        begin = self._words(recipient, "terminal/document_begin", name=name)
        end = self._words(recipient, "terminal/document_end", name=name)
        return f"{begin}\n{shown}\n{end}" + (f"\n{saved[1]}" if saved is not None else "")

    def _saved(self, folder: Path, recipient: Account, file_name: str, document: str) -> tuple[bool, str]:
        """Save a received document: whether it was saved, and where, in the person's language (or why
        it could not be)."""
        try:
            path = save_document(folder, file_name, document)
        except OSError as error:
            reason = error.strerror or str(error)
            context = {"path": str(folder), "os_error": reason}
            return False, self._words(recipient, "terminal/document_not_saved", **context)
        return True, self._words(recipient, "terminal/document_saved", path=str(path))

    def _words(self, recipient: Account, template: str, **context: Any) -> str:
        renderer = self._renderer or Renderer()
        return for_terminal(renderer.render(Outbound(recipient.id, template, context), recipient).text)

    def prompt(self) -> None:
        """Show the prompt before reading a line (interactive use); notices print it again below them."""
        self._out.write(PROMPT)
        self._out.flush()
        self._reading = True

    def read_done(self) -> None:
        """The line was read (or reading ended): no prompt to show again below what comes next."""
        self._reading = False

    def _aside_pressed(self, typed: str) -> RenderedButton | None:
        """A notice's button by its letter (a, b, … aa); anything else is for the question."""
        return self._aside.get(typed.lower())

    def inbound(self, line: str) -> Inbound | None:
        """One typed line as a message, or None for an empty line.

        Raises :class:`FileRefused` for a ``/file`` that names no regular file: the terminal answers it.
        """
        line = line.rstrip("\r\n")[:MAX_LINE]
        stripped = line.strip()
        if not stripped:
            return None
        self._count += 1
        self._since_typed = True
        self._reading = False
        key = f"{self._session}-{self._count}"
        base = {
            "channel": Channel.TERMINAL,
            "user_id": self.user,
            "chat_id": self.user,
            "key": key,
            "locale_hint": self._locale_hint,
        }
        if stripped.startswith("/file"):
            return Inbound(**base, kind=InboundKind.FILE, extra=file_facts(stripped[5:].strip()))
        if stripped.startswith("/"):
            return Inbound(**base, kind=InboundKind.COMMAND, payload=stripped)
        recent = dict(list(self._aside.items())[-RECENT_LETTERED:])
        match = TypedMatch(pressed) if (pressed := self._aside_pressed(stripped)) else None
        match = match or typed_match(stripped, self._buttons, recent)
        if match.pressed is not None:
            return Inbound(**base, kind=InboundKind.CHOICE, payload=match.pressed.choice, extra=dict(TYPED))
        return Inbound(**base, kind=InboundKind.TEXT, payload=line, extra=shown_marks(match, recent))


Notice = Callable[[str, dict[str, Any]], Awaitable[None]]


async def run_lines(
    channel: TerminalChannel,
    lines: Callable[[], Awaitable[str | None]],
    handle: Callable[[Inbound], Awaitable[None]],
    notice: Notice,
) -> None:
    """Feed lines to the engine until end of input (None) or ``/quit``; ``notice`` answers a refused file."""
    while True:
        line = await lines()
        channel.read_done()
        if line is None or line.strip().lower() in QUIT:
            return
        try:
            inbound = channel.inbound(line)
        except FileRefused as answered:
            await notice(answered.template, answered.context)
            continue
        if inbound is not None:
            await handle(inbound)
