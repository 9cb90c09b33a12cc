"""Collection conduct: the 08:00–21:00 local window and the daily cap, across daylight saving changes.

America/New_York went to summer time on 2024-03-10 (02:00 EST → 03:00 EDT, a 23-hour day) and back on
2024-11-03 (02:00 EDT → 01:00 EST, a 25-hour day). Asia/Shanghai is UTC+8 all year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.conduct import (
    DEFAULT_DAILY_CAP,
    DEFAULT_TIME_ZONE,
    ConductPolicy,
    SendWindow,
    is_within_window,
    next_allowed_send,
)

NY = "America/New_York"
SH = "Asia/Shanghai"
WINDOW = SendWindow()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_defaults() -> None:
    assert SendWindow(time(8), time(21)) == WINDOW
    assert ConductPolicy() == ConductPolicy(WINDOW, DEFAULT_DAILY_CAP)
    assert DEFAULT_DAILY_CAP == 3
    assert DEFAULT_TIME_ZONE == SH


# --- Asia/Shanghai ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2025, 1, 15, 0, 30), utc(2025, 1, 15, 0, 30)),  # 08:30 local: now
        (utc(2025, 1, 15, 0, 0), utc(2025, 1, 15, 0, 0)),  # 08:00 sharp: the start is inside
        (utc(2025, 1, 14, 23, 59), utc(2025, 1, 15, 0, 0)),  # 07:59: wait for 08:00 today
        (utc(2025, 1, 14, 16, 0), utc(2025, 1, 15, 0, 0)),  # local midnight: 08:00 the same day
        (utc(2025, 1, 15, 12, 59, 59), utc(2025, 1, 15, 12, 59, 59)),  # 20:59:59: still inside
        (utc(2025, 1, 15, 13, 0), utc(2025, 1, 16, 0, 0)),  # 21:00: the end is outside; tomorrow
        (utc(2025, 1, 15, 15, 30), utc(2025, 1, 16, 0, 0)),  # 23:30: tomorrow at 08:00
    ],
)
def test_shanghai_window(now: datetime, expected: datetime) -> None:
    assert next_allowed_send(now, SH, WINDOW, 0, 3) == expected
    assert is_within_window(now, SH, WINDOW) == (now == expected)


def test_the_cap_holds_until_the_next_local_day() -> None:
    now = utc(2025, 1, 15, 2, 0)  # 10:00 local
    assert next_allowed_send(now, SH, WINDOW, 2, 3) == now
    assert next_allowed_send(now, SH, WINDOW, 3, 3) == utc(2025, 1, 16, 0, 0)
    # 07:00 local with the cap reached since before midnight? The count is of *today*: a new day's count.
    assert next_allowed_send(utc(2025, 1, 14, 23, 0), SH, WINDOW, 0, 3) == utc(2025, 1, 15, 0, 0)
    assert next_allowed_send(utc(2025, 1, 14, 23, 0), SH, WINDOW, 3, 3) == utc(2025, 1, 16, 0, 0)


def test_the_policy_applies_its_own_window_and_cap() -> None:
    policy = ConductPolicy(SendWindow(time(9), time(18)), daily_cap=1)
    assert policy.next_allowed_send(utc(2025, 1, 15, 0, 30), SH, 0) == utc(2025, 1, 15, 1, 0)
    assert policy.next_allowed_send(utc(2025, 1, 15, 2, 0), SH, 1) == utc(2025, 1, 16, 1, 0)


def test_any_aware_time_is_accepted_and_returned_unchanged_when_allowed() -> None:
    beijing = timezone(timedelta(hours=8))
    now = datetime(2025, 1, 15, 10, 0, tzinfo=beijing)
    assert next_allowed_send(now, SH, WINDOW, 0, 3) is now
    later = next_allowed_send(datetime(2025, 1, 15, 22, 0, tzinfo=beijing), SH, WINDOW, 0, 3)
    assert later == utc(2025, 1, 16, 0, 0) and later.tzinfo is UTC


# --- America/New_York across daylight saving -----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "sent", "expected"),
    [
        # 23:00 EST on Saturday 9 March: Sunday's 08:00 is already EDT (12:00 UTC, not 13:00).
        (utc(2024, 3, 10, 4, 0), 0, utc(2024, 3, 10, 12, 0)),
        # Local midnight of the 23-hour day.
        (utc(2024, 3, 10, 5, 0), 0, utc(2024, 3, 10, 12, 0)),
        # 07:59 EDT on the Sunday: a minute to wait.
        (utc(2024, 3, 10, 11, 59), 0, utc(2024, 3, 10, 12, 0)),
        # 20:59 EDT on the Sunday: inside; 21:00 EDT is 01:00 UTC Monday.
        (utc(2024, 3, 11, 0, 59), 0, utc(2024, 3, 11, 0, 59)),
        (utc(2024, 3, 11, 1, 0), 0, utc(2024, 3, 11, 12, 0)),
        # Saturday noon EST, cap reached: Sunday 08:00 EDT.
        (utc(2024, 3, 9, 17, 0), 3, utc(2024, 3, 10, 12, 0)),
        # 21:30 EDT on Saturday 2 November: Sunday's 08:00 is EST again (13:00 UTC, not 12:00).
        (utc(2024, 11, 3, 1, 30), 0, utc(2024, 11, 3, 13, 0)),
        # 01:30 on the Sunday, twice (EDT then EST): both before the window.
        (utc(2024, 11, 3, 5, 30), 0, utc(2024, 11, 3, 13, 0)),
        (utc(2024, 11, 3, 6, 30), 0, utc(2024, 11, 3, 13, 0)),
        # Saturday noon EDT, cap reached: Sunday 08:00 EST.
        (utc(2024, 11, 2, 16, 0), 3, utc(2024, 11, 3, 13, 0)),
        # 20:30 EST on the 25-hour Sunday: inside, and the cap not reached.
        (utc(2024, 11, 4, 1, 30), 2, utc(2024, 11, 4, 1, 30)),
    ],
)
def test_new_york_across_daylight_saving(now: datetime, sent: int, expected: datetime) -> None:
    assert next_allowed_send(now, NY, WINDOW, sent, 3) == expected


def test_a_window_start_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    window = SendWindow(time(2, 30), time(21))
    # 02:30 does not exist on 2024-03-10 in New York: the clock reads 03:00 EDT at 07:00 UTC.
    assert next_allowed_send(utc(2024, 3, 10, 5, 0), NY, window, 0, 3) == utc(2024, 3, 10, 7, 0)


def test_a_window_wholly_inside_the_skipped_hour_waits_a_day() -> None:
    window = SendWindow(time(2, 10), time(2, 40))
    assert next_allowed_send(utc(2024, 3, 10, 5, 0), NY, window, 0, 3) == utc(2024, 3, 11, 6, 10)


def test_a_window_start_in_the_repeated_hour_takes_the_next_reading() -> None:
    window = SendWindow(time(1, 30), time(21))
    # 00:00 EDT: the first 01:30 (EDT, 05:30 UTC).
    assert next_allowed_send(utc(2024, 11, 3, 4, 0), NY, window, 0, 3) == utc(2024, 11, 3, 5, 30)
    # 01:10 EST, after the clock went back: the second 01:30 (EST, 06:30 UTC), never one in the past.
    assert next_allowed_send(utc(2024, 11, 3, 6, 10), NY, window, 0, 3) == utc(2024, 11, 3, 6, 30)
    # A window inside the repeated hour reopens when the clock goes back through it.
    short = SendWindow(time(1), time(1, 30))
    assert next_allowed_send(utc(2024, 11, 3, 5, 45), NY, short, 0, 3) == utc(2024, 11, 3, 6, 0)


# --- validation ------------------------------------------------------------------------------------------


def test_naive_and_non_datetimes_are_refused() -> None:
    with pytest.raises(InvalidInput, match="aware"):
        next_allowed_send(datetime(2025, 1, 15, 10), SH, WINDOW, 0, 3)
    with pytest.raises(InvalidInput, match="aware"):
        is_within_window(datetime(2025, 1, 15, 10), SH)
    with pytest.raises(InvalidInput, match="datetime"):
        is_within_window(date(2025, 1, 15), SH)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "asia/shanghai ", None, 8])
def test_unknown_time_zones_are_refused_by_name(name: object) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        next_allowed_send(utc(2025, 1, 15), name, WINDOW, 0, 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="time zone"):
        is_within_window(utc(2025, 1, 15), name)  # type: ignore[arg-type]


def test_the_unknown_zone_is_named() -> None:
    with pytest.raises(InvalidInput, match="Mars/Olympus_Mons"):
        is_within_window(utc(2025, 1, 15), "Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("sent", "cap", "message"),
    [
        (0, 0, "daily cap"),
        (0, -1, "daily cap"),
        (0, 2.0, "daily cap"),
        (-1, 3, "sent today"),
        (True, 3, "sent today"),
    ],
)
def test_counts_are_checked(sent: object, cap: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        next_allowed_send(utc(2025, 1, 15), SH, WINDOW, sent, cap)  # type: ignore[arg-type]


def test_windows_and_policies_are_checked() -> None:
    with pytest.raises(InvalidInput, match="start before it ends"):
        SendWindow(time(21), time(8))
    with pytest.raises(InvalidInput, match="start before it ends"):
        SendWindow(time(8), time(8))
    with pytest.raises(InvalidInput, match="local time of day"):
        SendWindow(time(8, tzinfo=UTC), time(21))
    with pytest.raises(InvalidInput, match="local time of day"):
        SendWindow(8, 21)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="daily cap"):
        ConductPolicy(daily_cap=0)
    with pytest.raises(InvalidInput, match="SendWindow"):
        ConductPolicy(window=(time(8), time(21)))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="SendWindow"):
        next_allowed_send(utc(2025, 1, 15), SH, None, 0, 3)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------------------

ZONES = [NY, SH, "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "UTC"]
times = st.times().map(lambda t: t.replace(microsecond=0))


@st.composite
def windows(draw: st.DrawFn) -> SendWindow:
    if draw(st.booleans()):
        return WINDOW
    start, end = sorted(draw(st.lists(times, min_size=2, max_size=2, unique=True)))
    return SendWindow(start, end)


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(moments, st.sampled_from(ZONES), windows(), st.integers(0, 5), st.integers(1, 5))
@settings(max_examples=400, deadline=None)
def test_the_result_is_never_early_always_inside_and_now_when_allowed(
    now: datetime, zone: str, window: SendWindow, sent: int, cap: int
) -> None:
    result = next_allowed_send(now, zone, window, sent, cap)
    assert result >= now
    assert is_within_window(result, zone, window)
    allowed_now = sent < cap and is_within_window(now, zone, window)
    assert (result == now) == allowed_now
    if allowed_now:
        assert result is now
    else:
        # Earliest: a second before, the window was shut (or it was before now).
        before = result - timedelta(seconds=1)
        assert before < now or not is_within_window(before, zone, window)
        local = ZoneInfo(zone)
        if sent >= cap:  # a new local day
            assert result.astimezone(local).date() > now.astimezone(local).date()
