"""Days as people type them about something already done (a payment made): ``2026-12-01``, ``2026/12/1``,
``2026年12月1日``, ``12月1日``/``12月1号``, ``12-1``/``12/1`` (month first, as written in China), ``Dec 1``,
``1 December 2026``, ``今天``/``昨天``/``前天``, ``today``/``yesterday``, ``上周三``/``上星期五``;
a time of day after a day (``今天早上``, ``this morning``, ``yesterday evening``, ``12月1日下午``, ``昨晚``,
``last night``). ``明天``, ``tomorrow`` are read too (as the future days they are: the caller says a
payment cannot be made then).

``2/12`` is ambiguous: month first as written in China (December 2 written ``12/2``), day first as many
write it elsewhere. :func:`day_readings` gives both readings when both are days; the caller decides (asks
which, or says how it read the date). :func:`parse_day` keeps the month-first reading.

A day written without its year is the latest such day not after today: a payment reported on January 3 as
``12月30日`` was made last December. Pure: the caller gives today (on the person's own calendar).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

MAX_TYPED = 40
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_RELATIVE = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "昨天": 1,
    "昨日": 1,
    "yesterday": 1,
    "前天": 2,
    "明天": -1,
    "明日": -1,
    "tomorrow": -1,
    "后天": -2,
    "dayaftertomorrow": -2,
}
_PARTS_OF_DAYS = {
    "今早": 0,
    "今晚": 0,
    "tonight": 0,
    "昨晚": 1,
    "昨夜": 1,
    "lastnight": 1,
    "明早": -1,
    "明晚": -1,
}
# A time of day after the day ("今天早上", "this morning", "12月1日下午"): the day is what counts. Spaces are
# gone by then ("this morning" is "thismorning").
_TIME_OF_DAY = re.compile(
    r"(?:早上|早晨|上午|中午|下午|傍晚|晚上|夜里|凌晨|"
    r"(?:in|at)?(?:the)?(?:early|late)?(?:morning|afternoon|evening|night|noon|lunchtime))$"
)
_THIS = ("this", "")  # "this morning"; a bare "morning" after "today" was "todaymorning"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_NUMERIC = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})[日号]?$")
_BOTH_WAYS = re.compile(r"^(\d{1,2})[-/.](\d{1,2})$")  # month first or day first: both are read
_LAST_WEEK = re.compile(r"^上(?:周|星期|礼拜)([一二三四五六日天七])$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?(\d{1,2})(?:st|nd|rd|th)?,?(\d{4})?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?([a-z]+)\.?,?(\d{4})?$")


def parse_day(typed: str, today: date) -> date | None:
    """The day ``typed`` names, or ``None`` when it names no day (or an impossible one, like 2月30日). Of
    an ambiguous ``2/12`` the month-first reading (see :func:`day_readings`)."""
    readings = day_readings(typed, today)
    return readings[0] if readings else None


def day_readings(typed: str, today: date) -> tuple[date, ...]:
    """The days ``typed`` can name: none, one, or two for a numeric day and month that read both ways
    (``2/12``: February 12 month first, December 2 day first; the month-first reading first)."""
    text = "".join(unicodedata.normalize("NFKC", typed[:MAX_TYPED]).casefold().split()).rstrip("。.!！")
    if text in _PARTS_OF_DAYS:
        return (today - timedelta(days=_PARTS_OF_DAYS[text]),)
    if readings := _readings(text, today):
        return readings
    part = _TIME_OF_DAY.search(text)
    if part is None or part.start() == 0:
        return ()
    rest = text[: part.start()]
    return (today,) if rest in _THIS else _readings(rest, today)


def _readings(text: str, today: date) -> tuple[date, ...]:
    """The day ``text`` names, and for ``2/12`` (no year, a slash, dash or dot) also the day-first reading."""
    found = _BOTH_WAYS.match(text)
    if found is None:
        read = _one_day(text, today)
        return () if read is None else (read,)
    first, second = int(found.group(1)), int(found.group(2))
    both = (_day(None, first, second, today), _day(None, second, first, today))
    return tuple(dict.fromkeys(day for day in both if day is not None))


def _one_day(text: str, today: date) -> date | None:
    if text in _RELATIVE:
        return today - timedelta(days=_RELATIVE[text])
    if found := _LAST_WEEK.match(text):
        monday = today - timedelta(days=today.weekday() + 7)
        return monday + timedelta(days=_WEEKDAYS[found.group(1)])
    if found := _NUMERIC.match(text):
        year, month, day = found.groups()
        return _day(year, int(month), int(day), today)
    if found := _MONTH_DAY.match(text):
        name, day, year = found.groups()
        return _named(name, int(day), year, today)
    if found := _DAY_MONTH.match(text):
        day, name, year = found.groups()
        return _named(name, int(day), year, today)
    return None


def _named(name: str, day: int, year: str | None, today: date) -> date | None:
    month = _MONTHS.get(name)
    return _day(year, month, day, today) if month else None


def _day(year: str | None, month: int, day: int, today: date) -> date | None:
    try:
        if year is not None:
            return date(int(year), month, day)
        this_year = date(today.year, month, day) if _exists(today.year, month, day) else None
        if this_year is not None and this_year <= today:
            return this_year
        return date(today.year - 1, month, day)
    except ValueError:
        return None


def _exists(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
