"""Days typed as people write them (dialogs.rules.dates): every way the bot writes a day is read back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.rules.dates import day_readings, parse_day

TODAY = date(2026, 12, 2)  # a Wednesday
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
LONG = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December"]  # fmt: skip
within_a_year = st.integers(min_value=0, max_value=364).map(lambda back: TODAY - timedelta(days=back))


@given(within_a_year)
def test_every_way_of_writing_a_day_in_the_last_year_reads_back(day: date) -> None:
    m, d = day.month, day.day
    written = [
        day.isoformat(),
        f"{day.year}/{m}/{d}",
        f"{day.year}年{m}月{d}日",
        f"{m}月{d}日",
        f"{m}月{d}号",
        f"{m}-{d}",
        f"{m}/{d}",
        f"{MONTHS[m - 1]} {d}",
        f"{LONG[m - 1]} {d}, {day.year}",
        f"{d} {MONTHS[m - 1]}",
        f"{d} {LONG[m - 1]} {day.year}",
        "１２月１日" if (m, d) == (12, 1) else f"{m}月{d}日",
    ]
    for text in written:
        assert parse_day(text, TODAY) == day, text


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("今天", TODAY),
        ("昨天", date(2026, 12, 1)),
        ("前天", date(2026, 11, 30)),
        ("Yesterday", date(2026, 12, 1)),
        ("上周三", date(2026, 11, 25)),
        ("上星期一", date(2026, 11, 23)),
        ("上周日", date(2026, 11, 29)),
        ("12月30日", date(2025, 12, 30)),  # no year: the latest such day not after today
        ("2026年12月1日", date(2026, 12, 1)),
        ("明天", TODAY + timedelta(days=1)),  # understood: the caller says it has not come yet (trial 3, 4)
        ("Tomorrow", TODAY + timedelta(days=1)),
        ("this morning", TODAY),  # trial 3, item 4: read like 今天早上
        ("This afternoon", TODAY),
        ("today morning", TODAY),
        ("今天早上", TODAY),
        ("今天下午", TODAY),
        ("今早", TODAY),
        ("yesterday evening", date(2026, 12, 1)),
        ("last night", date(2026, 12, 1)),
        ("昨晚", date(2026, 12, 1)),
        ("12月1日下午", date(2026, 12, 1)),
        ("13/1", date(2026, 1, 13)),  # no 13th month: day first
    ],
)
def test_words_for_days(typed: str, day: date) -> None:
    assert parse_day(typed, TODAY) == day


@pytest.mark.parametrize("typed", ["", "soon", "2月30日", "13/13", "2026-02-29", "上周八", "Decembr 1", "12"])
def test_what_names_no_day(typed: str) -> None:
    assert parse_day(typed, TODAY) is None


@given(st.text(max_size=60))
def test_any_text_gives_a_day_or_none(typed: str) -> None:
    assert parse_day(typed, TODAY) is None or isinstance(parse_day(typed, TODAY), date)


@given(within_a_year)
def test_a_numeric_day_and_month_that_read_both_ways_gives_both_readings_month_first(day: date) -> None:
    """``2/12`` is December 2 to many and February 12 as written in China: both are offered to the caller,
    month first; a day after the 12th or a day equal to its month reads one way only."""
    for separator in "/-.":
        readings = day_readings(f"{day.day}{separator}{day.month}", TODAY)
        assert day in readings
        if day.day > 12 or day.day == day.month:
            assert readings == (day,)
        else:
            assert len(readings) == 2 and readings[1] == day
            assert readings[0] == parse_day(f"{day.day}{separator}{day.month}", TODAY)


@given(st.text(max_size=60))
def test_any_text_reads_as_at_most_two_different_days(typed: str) -> None:
    readings = day_readings(typed, TODAY)
    assert len(readings) <= 2 and len(set(readings)) == len(readings)


@given(within_a_year, st.sampled_from(["早上", "下午", "晚上", " morning", " in the afternoon", " evening"]))
def test_a_time_of_day_after_a_day_names_that_day(day: date, part: str) -> None:
    assert parse_day(f"{day.month}月{day.day}日{part}", TODAY) == day
    assert parse_day(f"{day.isoformat()}{part}", TODAY) == day
