"""Typed words that mean a button: ``同意``, ``失业了``, ``I consent``, ``yes``, or the button's number.

Text channels show buttons as numbered lines (the terminal now, WeChat later); people answer with the
number or with the words they see. A channel keeps the buttons it last showed and asks :func:`typed_choice`
which one, if any, a typed line presses. Only the rendered labels are known here, so this lives in ``bot/``.

What counts, tried in this order, and why:
- a number is a button only when it is exactly that button's number: ``1``, not ``01`` or ``000001``
  (a one-time code or an amount must reach the question that asked for it);
- words are a button when they are its label, ignoring case, spaces and punctuation (``同意！``), or the
  label without a leading "I"/"我"/"my"; or the head of a label before its comma or colon ("Yes");
- or words of the same meaning as its label, from a small table per language kept beside the templates
  (``templates/<locale>/typed_words.txt``: "ok" and "好的" mean "Yes", "none" and "没有" mean "Skip");
- or, for a short phrase with letters in it, the label inside the phrase (``失业了``) or the phrase a whole
  word or more of the label (``illness``, ``keep``, ``继续``), unless the phrase says "not" where the label
  does not (``我不想跳过`` is no "跳过").
- or, failing all those, a unique beginning of a label (``report`` for "Report a payment", ``确认`` for
  "确认这份协议") or all the key words of one (``report payment``), each at least a few letters.
When two buttons would match at one of these, neither does: :func:`typed_match` names them as candidates, so
the refusal can list them (rather than guess). The same for a loose match (anything but the number, letter or
the label itself) on a choice that commits to money with no "are you sure" after it (confirming an
agreement, accepting an offer): it is named, never pressed. Typed payment decisions ask first in the dialogs
(``extra["typed"]``), so those may be matched loosely.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.rendering import RenderedButton
from templates import TEMPLATE_DIR

_TAGS = re.compile(r"</?[a-z][^>]*>")
_BUTTON_NUMBER = re.compile(r"[1-9]\d?")
_LEADING_SELF = ("我", "i ", "my ")
_APOSTROPHES = re.compile(r"['’`]")
_HEAD_END = re.compile(r"[,:：，(（]")
SYNONYMS_FILE = "typed_words.txt"
SHORT_PHRASE = 20  # longer lines are answers (a story, a name), not a button named in passing
_NEGATIONS = frozenset({"not", "no", "dont", "never"})
_NEGATION_CHARS = frozenset("不没别未无")

# Words that carry no choice: "report payment" names "Report a payment" without its "a".
_LIGHT_WORDS = frozenset(
    {"a", "an", "the", "to", "of", "my", "for", "i", "me", "this", "that", "it", "please"}
)
MIN_PREFIX_ASCII = 3  # "rep" is a beginning; "r" or "re" could be anything
MIN_PREFIX_OTHER = 2  # 确认: two characters are a word in Chinese
# Choices that commit to money at once, with no question after them: typed loosely, they are named in the
# refusal, never pressed (a global verb ``g:VERB:…`` or a step's own id). ``g:payok`` and the mediator's
# decisions ask first when typed (dialogs.flows.payment_actions), so they are not here.
_COMMITTING_VERBS = frozenset({"confirm"})  # dialogs.flows.agreement: confirm the agreement
_COMMITTING_IDS = frozenset({"accept"})  # dialogs.flows.negotiate: accept the offer on the table

Matcher = Callable[[str, set[str]], bool]


@dataclass(frozen=True, slots=True)
class TypedMatch:
    """What a typed line means among the choices shown: the choice it presses, or the candidates it could
    mean (several, or one that must be chosen by its mark), each with its mark (``"2"``, ``"b"``)."""

    pressed: RenderedButton | None = None
    candidates: tuple[tuple[str, RenderedButton], ...] = ()


def typed_match(
    typed: str, buttons: Sequence[RenderedButton], lettered: Mapping[str, RenderedButton] | None = None
) -> TypedMatch:
    """What ``typed`` means among ``buttons`` (numbered from 1) and ``lettered`` (a notice's choices, by
    their letters): a number or letter presses its choice; words press the one choice they clearly name."""
    line = unicodedata.normalize("NFKC", typed).strip()
    lettered = lettered or {}
    if _BUTTON_NUMBER.fullmatch(line):
        number = int(line)
        return TypedMatch(buttons[number - 1] if number <= len(buttons) else None)
    if line.casefold() in lettered:
        return TypedMatch(lettered[line.casefold()])
    words = _words(line)
    if not words:
        return TypedMatch()
    marked = [(str(n), b) for n, b in enumerate(buttons, 1)] + list(lettered.items())
    named = [(mark, button, _names(button.label)) for mark, button in marked]
    for tier, matches in enumerate(_TIERS):
        found = _distinct([(mark, button) for mark, button, names in named if matches(words, names)])
        if len(found) == 1 and (tier < _LOOSE_FROM or not _commits(found[0][1])):
            return TypedMatch(found[0][1])
        if found:
            return TypedMatch(None, tuple(found))
    return TypedMatch()


def shown_marks(match: TypedMatch, lettered: Mapping[str, RenderedButton]) -> dict[str, Any]:
    """What a refusal of typed words lists again (``Inbound.extra`` of the text; read by
    dialogs.flows.inputs.refusal_marks): the choices the words could mean (``meant``), and the notices'
    lettered choices, which the question asked again does not show (``lettered``), as [mark, label]."""
    extra: dict[str, Any] = {}
    if match.candidates:
        extra["meant"] = [[mark, _plain(button.label)] for mark, button in match.candidates]
    if lettered:
        extra["lettered"] = [[letter, _plain(button.label)] for letter, button in lettered.items()]
    return extra


def _plain(label: str) -> str:
    return html.unescape(_TAGS.sub("", label))


def _distinct(found: list[tuple[str, RenderedButton]]) -> list[tuple[str, RenderedButton]]:
    """One entry a choice: the same choice shown both numbered and lettered is one choice (its number)."""
    seen: dict[str, tuple[str, RenderedButton]] = {}
    for mark, button in found:
        seen.setdefault(button.choice, (mark, button))
    return list(seen.values())


def _commits(button: RenderedButton) -> bool:
    """Whether the choice commits to money at once (see ``_COMMITTING_VERBS``)."""
    choice = button.choice.partition(".")[2]
    if choice.startswith("g:"):
        return choice[2:].partition(":")[0] in _COMMITTING_VERBS
    return choice in _COMMITTING_IDS


def typed_choice(typed: str, buttons: Sequence[RenderedButton]) -> RenderedButton | None:
    """The button ``typed`` presses among ``buttons`` (in the order shown, numbered from 1), or None."""
    return typed_match(typed, buttons).pressed


YES_WORDS = ("yes", "是")  # the first word of the "yes" line of each language's table


def means_yes(typed: str) -> bool:
    """Whether ``typed`` says yes in either language ("y", "ok", "是", "确认"…, from the synonym tables)."""
    words = _words(unicodedata.normalize("NFKC", typed).strip())
    return bool(words) and (words in YES_WORDS or any(_means_label(words, {yes}) for yes in YES_WORDS))


def _is_whole_label(words: str, names: set[str]) -> bool:
    return words in names and words == max(names, key=len)  # the full label is the longest of its names


def _is_label(words: str, names: set[str]) -> bool:
    return words in names


def _begins_label(words: str, names: set[str]) -> bool:
    """The beginning of a label, a few letters at least (``report``, ``确认``)."""
    least = MIN_PREFIX_ASCII if words.isascii() else MIN_PREFIX_OTHER
    return (
        len(words) >= least
        and any(char.isalpha() for char in words)
        and any(name.startswith(words) and not _negates(words, name) for name in names)
    )


def _key_words(words: str, names: set[str]) -> bool:
    """Every word that carries meaning is (the beginning of) a word of the label: ``report payment``."""
    typed = [word for word in words.split() if word not in _LIGHT_WORDS]
    if not typed or len(words) > SHORT_PHRASE or not all(any(c.isalpha() for c in word) for word in typed):
        return False
    return any(all(_in_name(word, name) for word in typed) and not _negates(words, name) for name in names)


def _in_name(word: str, name: str) -> bool:
    if not word.isascii():
        return _pieces_in(word, name)
    return len(word) >= MIN_PREFIX_ASCII and any(part.startswith(word) for part in name.split())


def _pieces_in(word: str, name: str, start: int = 0) -> bool:
    """Chinese has no spaces between words: ``报告还款`` is ``报告`` and ``还款`` of "报告一笔还款", in order,
    each piece two characters or more."""
    if not word:
        return True
    for size in range(len(word), MIN_PREFIX_OTHER - 1, -1):
        found = name.find(word[:size], start)
        if found >= 0 and _pieces_in(word[size:], name, found + size):
            return True
    return False


def _means_label(words: str, names: set[str]) -> bool:
    """Whether ``words`` and one of the label's names are on one line of the synonym table."""
    return any(names & meaning for meaning in _synonyms().get(words, ()))


def _within_label(words: str, names: set[str]) -> bool:
    """A short phrase holding the label, or a whole word or more of it; never across a "not"."""
    if len(words) > SHORT_PHRASE or not any(char.isalpha() for char in words):
        return False
    return any(
        not _negates(words, name) and (_contains(words, name) or _contains(name, words)) for name in names
    )


def _contains(outer: str, inner: str) -> bool:
    if not any(char.isalpha() for char in inner):
        return False  # "850" is an amount, not the "Keep ¥850.00" button
    if inner.isascii():  # words: whole words only ("no" is not in "not"), and more than a letter or two
        return len(inner) >= 3 and f" {inner} " in f" {outer} "
    return len(inner) >= 2 and inner in outer


def _negates(words: str, name: str) -> bool:
    said = set(words.split()) & _NEGATIONS or set(words) & _NEGATION_CHARS
    return bool(said) and not (set(name.split()) & said or set(name) & said)


@functools.cache
def _synonyms() -> dict[str, tuple[frozenset[str], ...]]:
    """Each typed phrase to the meanings (lines of the tables of every language) it is on."""
    table: dict[str, list[frozenset[str]]] = {}
    for path in sorted(TEMPLATE_DIR.glob(f"*/{SYNONYMS_FILE}")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            meaning = frozenset(filter(None, (_words(phrase) for phrase in line.split("|"))))
            for phrase in meaning:
                table.setdefault(phrase, []).append(meaning)
    return {phrase: tuple(meanings) for phrase, meanings in table.items()}


def _names(label: str) -> set[str]:
    """The ways a label may be typed: itself, without a leading "I"/"我", its head before a comma."""
    text = _plain(label)
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


_TIERS: tuple[Matcher, ...] = (
    _is_whole_label,
    _is_label,
    _means_label,
    _within_label,
    _begins_label,
    _key_words,
)
_LOOSE_FROM = 2  # from the synonym table on, a match is a guess: never one that commits to money at once
