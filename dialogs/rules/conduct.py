"""Collection conduct (DESIGN §4): when a reminder or a lender's message may reach a borrower.

Only inside a daily window of the borrower's local time (default 08:00–21:00, the start included and the
end not), and at most ``daily_cap`` a local day; the count starts again at local midnight. Times are
worked out in the borrower's zone with :mod:`zoneinfo`, so a window keeps its local hours across daylight
saving changes: a day may be 23 or 25 hours long, and a window edge that falls in the hour a clock skips
opens when the clock jumps past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialogs.errors import InvalidInput

DEFAULT_TIME_ZONE = "Asia/Shanghai"  # the borrower's zone when they have not told us another
DEFAULT_DAILY_CAP = 3  # reminders and lender messages together, per local day
_DAYS_AHEAD = 3  # a window that fits in no real time today (inside a skipped hour) opens on a later day
_ONE_SECOND = timedelta(seconds=1)  # zone transitions fall on whole seconds


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Local wall-clock hours in which messages may arrive: ``start`` ≤ time < ``end``, same day."""

    start: time = time(8)
    end: time = time(21)

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidInput(f"the send window's {name} must be a local time of day, got {value!r}")
        if not self.start < self.end:
            raise InvalidInput(f"the send window must start before it ends, got {self.start}–{self.end}")

    def contains(self, local: time) -> bool:
        """Whether a local wall-clock time is inside the window."""
        return self.start <= local.replace(tzinfo=None) < self.end


@dataclass(frozen=True, slots=True)
class ConductPolicy:
    """The configurable conduct limits: the send window and how many messages a local day allows."""

    window: SendWindow = field(default_factory=SendWindow)
    daily_cap: int = DEFAULT_DAILY_CAP

    def __post_init__(self) -> None:
        _require_window(self.window)
        _require_count("the daily cap", self.daily_cap, minimum=1)

    def next_allowed_send(self, now_utc: datetime, tz_name: str, sent_today_count: int) -> datetime:
        """:func:`next_allowed_send` under this policy."""
        return next_allowed_send(now_utc, tz_name, self.window, sent_today_count, self.daily_cap)


def is_within_window(now_utc: datetime, tz_name: str, window: SendWindow | None = None) -> bool:
    """Whether ``now_utc`` (any aware datetime) falls inside ``window`` in the zone ``tz_name``."""
    window = SendWindow() if window is None else _require_window(window)
    return window.contains(_require_aware(now_utc).astimezone(_zone(tz_name)).time())


def next_allowed_send(
    now_utc: datetime,
    tz_name: str,
    window: SendWindow,
    sent_today_count: int,
    daily_cap: int = DEFAULT_DAILY_CAP,
) -> datetime:
    """The earliest moment at or after ``now_utc`` at which a message may reach the borrower.

    ``now_utc`` itself (unchanged) when it is inside the window and fewer than ``daily_cap`` messages went
    out this local day; otherwise, in UTC, the window's start today if it is still ahead, or else on the
    next local day (a fresh day, so the cap no longer holds it back).
    """
    now = _require_aware(now_utc)
    zone = _zone(tz_name)
    window = _require_window(window)
    sent = _require_count("the count of messages sent today", sent_today_count, minimum=0)
    cap = _require_count("the daily cap", daily_cap, minimum=1)
    today = now.astimezone(zone).date()
    under_cap = sent < cap
    if under_cap and window.contains(now.astimezone(zone).time()):
        return now
    first_day = today if under_cap else today + timedelta(days=1)
    for offset in range(_DAYS_AHEAD):
        opening = _opening(first_day + timedelta(days=offset), window.start, zone, now)
        if opening is not None and window.contains(opening.astimezone(zone).time()):
            return opening
    raise InvalidInput(f"the send window {window.start}–{window.end} never opens in {tz_name}")


def _opening(day: date, start: time, zone: tzinfo, not_before: datetime) -> datetime | None:
    """The first moment, not before ``not_before``, at which the local clock of ``day`` reads ``start`` —
    or, when that time is skipped (clocks going forward), the moment the clock jumps past it."""
    wall = datetime.combine(day, start)
    # Both readings of an ambiguous time (clocks going back) are real; a skipped time has neither.
    readings = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = sorted(moment for moment in readings if _wall(moment, zone) == wall)
    if not real:
        jump = _jump_past(wall, zone, min(readings), max(readings))
        return jump if jump >= not_before else None
    return next((moment for moment in real if moment >= not_before), None)


def _jump_past(wall: datetime, zone: tzinfo, before: datetime, after: datetime) -> datetime:
    """The first moment in ``(before, after]`` whose wall time is past the skipped ``wall``, by bisection."""
    while after - before > _ONE_SECOND:
        middle = before + (after - before) / 2
        before, after = (before, middle) if _wall(middle, zone) >= wall else (middle, after)
    return after.replace(microsecond=0) if _wall(after.replace(microsecond=0), zone) >= wall else after


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _zone(tz_name: object) -> ZoneInfo:
    if not isinstance(tz_name, str) or not tz_name:
        raise InvalidInput(f"a time zone must be an IANA name such as Asia/Shanghai, got {tz_name!r}")
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a name that is not a valid key (e.g. "../x")
        raise InvalidInput(f"unknown time zone: {tz_name!r}") from None


def _require_aware(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"the time must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"the time must carry its time zone (aware), got the naive {value.isoformat()}")
    return value


def _require_window(window: object) -> SendWindow:
    if not isinstance(window, SendWindow):
        raise InvalidInput(f"the send window must be a SendWindow, not {type(window).__name__}")
    return window


def _require_count(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{name} must be a whole number, at least {minimum}, got {value!r}")
    return value
