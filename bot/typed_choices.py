"""Typed words that mean a button: ``同意``, ``开始吧``, ``失业``, ``I consent``, or the button's number.

Text channels show buttons as numbered lines (the terminal now, WeChat later); people answer with the
number or with the words they see. A channel keeps the buttons it last showed and asks :func:`typed_choice`
which one, if any, a typed line presses. Only the rendered labels are known here, so this lives in ``bot/``.

What counts, and why:
- a number is a button only when it is exactly that button's number: ``1``, not ``01`` or ``000001``
  (a one-time code or an amount must reach the question that asked for it);
- words are a button when they are its label, ignoring case, spaces and punctuation (``同意！``), or the
  label without a leading "I"/"我"/"my"; or the head of a label before its comma or colon ("Yes");
  when two buttons would both match, neither does (the person is asked again rather than guessed for).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

from bot.rendering import RenderedButton

_TAGS = re.compile(r"</?[a-z][^>]*>")
_BUTTON_NUMBER = re.compile(r"[1-9]\d?")
_LEADING_SELF = ("我", "i ", "my ")
_APOSTROPHES = re.compile(r"['’`]")
_HEAD_END = re.compile(r"[,:：，(（]")


def typed_choice(typed: str, buttons: Sequence[RenderedButton]) -> RenderedButton | None:
    """The button ``typed`` presses among ``buttons`` (in the order shown, numbered from 1), or None."""
    line = unicodedata.normalize("NFKC", typed).strip()
    if _BUTTON_NUMBER.fullmatch(line):
        number = int(line)
        return buttons[number - 1] if number <= len(buttons) else None
    words = _words(line)
    if not words:
        return None
    matches = [button for button in buttons if words in _names(button.label)]
    return matches[0] if len(matches) == 1 else None


def _names(label: str) -> set[str]:
    """The ways a label may be typed: itself, without a leading "I"/"我", its head before a comma."""
    text = html.unescape(_TAGS.sub("", label))
    full = _words(text)
    names = {full}
    for prefix in _LEADING_SELF:
        if full.startswith(prefix) and len(full) > len(prefix) + 1:
            names.add(full.removeprefix(prefix).strip())
    head = _words(_HEAD_END.split(unicodedata.normalize("NFKC", text), maxsplit=1)[0])
    if len(head) >= 2:
        names.add(head)
    names.discard("")
    return names


def _words(text: str) -> str:
    """Lower case, letters and digits only, single spaces: what is left when punctuation and emoji go."""
    folded = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())  # "let's" = "lets"
    kept = (char if unicodedata.category(char)[0] in "LNM" else " " for char in folded)
    return " ".join("".join(kept).split())
