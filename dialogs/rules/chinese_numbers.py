"""Numbers written the way people type them in Chinese: 三千五百, 两千, 一万二, 3千, 0.5万, 1万2, 壹仟伍佰.

Digits may be Chinese (一…九, 两, 零, or the financial capitals 壹贰叁…) or Arabic (``3``, ``1.5``,
``1,200``); units are 十 百 千 (and ``k``) inside a section, 万 (and ``w``) and 亿 between sections.
Spoken shorthand is understood: a digit left over after a unit counts one unit lower (三千五 = 3,500,
一万二 = 12,000), unless a 零 shows that the lower units were skipped (三千零五 = 3,005).
"""

from __future__ import annotations

import re
from decimal import Decimal

from dialogs.errors import InvalidInput

# The financial capitals (大写数字) written on contracts and receipts, as the everyday characters.
_CAPITALS = str.maketrans(
    {
        "壹": "一",
        "贰": "二",
        "貳": "二",
        "叁": "三",
        "參": "三",
        "肆": "四",
        "伍": "五",
        "陆": "六",
        "陸": "六",
        "柒": "七",
        "捌": "八",
        "玖": "九",
        "拾": "十",
        "佰": "百",
        "仟": "千",
        "萬": "万",
        "億": "亿",
        "〇": "零",
        "w": "万",
    }
)
ZERO = "零"
_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "k": 1000}
_BIG_UNITS = (("亿", 100_000_000), ("万", 10_000))
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[零一二两三四五六七八九十百千k]")


def parse_chinese_number(text: str) -> Decimal:
    """The value of ``text`` (trimmed, lower case, no currency words); ``InvalidInput`` if it has none."""
    normalised = _normalise(text)
    if not normalised:
        raise InvalidInput(f"not a number: {text!r}")
    return _with_big_units(normalised, _BIG_UNITS, original=text)


def _normalise(text: str) -> str:
    return text.translate(_CAPITALS)


def _with_big_units(text: str, bigs: tuple[tuple[str, int], ...], *, original: str) -> Decimal:
    """Split on the largest unit (亿, then 万): the part before it counts that many, the rest adds."""
    if not bigs:
        return _section(text, original=original)
    (unit, size), smaller = bigs[0], bigs[1:]
    if unit not in text:
        return _with_big_units(text, smaller, original=original)
    high, _, low = text.partition(unit)
    if not high:
        raise InvalidInput(f"no number before {unit}: {original!r}")
    value = _with_big_units(high, smaller, original=original) * size
    if not low:
        return value
    if _is_lone_digit(low):  # 一万二: the shorthand for 一万二千
        return value + _single(low) * size // 10
    return value + _with_big_units(low, smaller, original=original)


def _is_lone_digit(text: str) -> bool:
    """One digit, Chinese or Arabic: the shorthand that means "that many of the next unit down"."""
    return len(text) == 1 and ((text in _DIGITS and text != ZERO) or text in "123456789")


def _single(text: str) -> int:
    return _DIGITS[text] if text in _DIGITS else int(text)


def _tokens(text: str, *, original: str) -> list[str]:
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        raise InvalidInput(f"not a number: {original!r}")
    return tokens


def _section(text: str, *, original: str) -> Decimal:
    """A number below 万: digits each followed by a smaller unit than the last (三千零五十, 3千5, 十五)."""
    value = Decimal(0)
    pending: Decimal | None = None
    lone = False  # the pending number is one digit (三, 5), which shorthand may scale
    last_unit: int | None = None
    skipped = False  # a 零 was written: a digit left over is ones, not the next unit down
    for token in _tokens(text, original=original):
        if token == ZERO:
            skipped = True
        elif token in _UNITS:
            unit = _UNITS[token]
            if last_unit is not None and unit >= last_unit:
                raise InvalidInput(f"units out of order: {original!r}")
            if pending is None and unit != 10:  # 十五 is fifteen; a bare 千 is not a number
                raise InvalidInput(f"no digit before {token}: {original!r}")
            value += (pending if pending is not None else Decimal(1)) * unit
            pending, last_unit, skipped = None, unit, False
        elif pending is not None:
            raise InvalidInput(f"two numbers in a row: {original!r}")
        else:
            pending = Decimal(_DIGITS[token]) if token in _DIGITS else Decimal(token.replace(",", ""))
            lone = _is_lone_digit(token)
    if pending is not None:
        if lone and not skipped and last_unit is not None and last_unit > 10:
            pending *= last_unit // 10  # 三千五: five hundred, as it is said
        value += pending
    return value
