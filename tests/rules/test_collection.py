"""The one daily cap on collection contact (dialogs.collection): the moment found for one more message is
inside the borrower's window, on a local day with room, and no earlier moment would do."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.collection import collection_time, local_day
from dialogs.rules.conduct import ConductPolicy, SendWindow

ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC")


class Days:
    """Messages already counted on each local day of one zone."""

    def __init__(self, zone: str, counts: dict[date, int]) -> None:
        self.zone, self.counts = zone, counts

    async def collection_messages(self, case_id: int, start: datetime, end: datetime) -> int:
        day = start.astimezone(ZoneInfo(self.zone)).date()
        assert local_day(start, self.zone) == (start, end)
        return self.counts.get(day, 0)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    start_hour=st.integers(0, 12),
    length=st.integers(1, 11),
    cap=st.integers(1, 5),
    counts=st.lists(st.integers(0, 6), min_size=0, max_size=8),
)
def test_the_moment_is_in_the_window_on_a_day_with_room(
    zone: str, now: datetime, start_hour: int, length: int, cap: int, counts: list[int]
) -> None:
    policy = ConductPolicy(SendWindow(time(start_hour), time(start_hour + length)), cap)
    today = now.astimezone(ZoneInfo(zone)).date()
    days = Days(zone, {today + timedelta(days=i): c for i, c in enumerate(counts)})
    at = asyncio.run(collection_time(days, policy, 1, zone, now))
    local = at.astimezone(ZoneInfo(zone))
    assert at >= now
    assert policy.window.contains(local.time())
    assert days.counts.get(local.date(), 0) < cap
    # Every day before it was full, or (today) its window had passed or the day was full.
    for offset in range((local.date() - today).days):
        day = today + timedelta(days=offset)
        full = days.counts.get(day, 0) >= cap
        passed = day == today and now.astimezone(ZoneInfo(zone)).time() >= policy.window.end
        assert full or passed, (day, days.counts.get(day, 0))
    if at > now and local.date() == today:
        assert now.astimezone(ZoneInfo(zone)).time() < policy.window.start  # waits only for the opening
