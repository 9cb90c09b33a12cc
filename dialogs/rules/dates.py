"""Days as people type them about something already done (a payment made): ``2026-12-01``, ``2026/12/1``,
``2026年12月1日``, ``12月1日``/``12月1号``, ``12-1``/``12/1`` (month first, as written in China), ``Dec 1``,
``1 December 2026``, ``今天``/``昨天``/``前天``, ``today``/``yesterday``, ``上周三``/``上星期五``.

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
_RELATIVE = {"今天": 0, "今日": 0, "today": 0, "昨天": 1, "昨日": 1, "yesterday": 1, "前天": 2}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_NUMERIC = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})[日号]?$")
_LAST_WEEK = re.compile(r"^上(?:周|星期|礼拜)([一二三四五六日天七])$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?(\d{1,2})(?:st|nd|rd|th)?,?(\d{4})?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?([a-z]+)\.?,?(\d{4})?$")


def parse_day(typed: str, today: date) -> date | None:
    """The day ``typed`` names, or ``None`` when it names no day (or an impossible one, like 2月30日)."""
    text = "".join(unicodedata.normalize("NFKC", typed[:MAX_TYPED]).casefold().split()).rstrip("。.!！")
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
