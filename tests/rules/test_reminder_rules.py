"""Reminder rules: offsets and their moments, the final notice, why a due reminder is not sent, and bad
settings refused in one line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import SettingsError, load_settings
from dialogs.errors import InvalidInput
from dialogs.rules.reminders import ReminderDue, ReminderPolicy, parse_offsets, why_not_sent


def test_the_default_reminders_and_their_moments() -> None:
    policy = ReminderPolicy()
    assert policy.offsets == (-3, 0, 1, 7)
    assert policy.essential_offset == 7  # the last notice inside the 15 days of grace
    assert policy.moment(date(2026, 12, 2), -3, "Asia/Shanghai") == datetime(2026, 11, 29, 2, tzinfo=UTC)
    # New York on the day clocks go back: 10:00 local is 15:00 UTC (EST), not 14:00 (EDT).
    assert policy.moment(date(2026, 11, 1), 0, "America/New_York") == datetime(2026, 11, 1, 15, tzinfo=UTC)


def test_no_final_notice_without_an_offset_inside_the_grace_period() -> None:
    assert ReminderPolicy(offsets=(-3, 0)).essential_offset is None
    assert ReminderPolicy(offsets=(-1, 20), grace_days=15).essential_offset is None
    assert ReminderPolicy(offsets=(1, 3, 14), grace_days=15).essential_offset == 14


@pytest.mark.parametrize("text", ["", "a,b", "1,1", "-3,0,99", "1.5", "3 days"])
def test_bad_offsets_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_offsets(text)


@given(st.lists(st.integers(-60, 60), min_size=1, max_size=8, unique=True))
def test_offsets_read_back_sorted(offsets: list[int]) -> None:
    assert parse_offsets(",".join(map(str, offsets))) == tuple(sorted(offsets))


def _due(**changes: object) -> ReminderDue:
    values: dict[str, object] = {
        "id": 1,
        "status": "pending",
        "due_at": datetime(2026, 12, 2, 2, tzinfo=UTC),
        "case_id": 1,
        "case_state": "active",
        "instalment_number": 1,
        "due_date": date(2026, 12, 2),
        "planned_for": date(2026, 12, 2),
        "amount_left": Decimal("795.64"),
        "paid": False,
        "essential": False,
        "lender": "Demo Lender",
        "loan_ref": "DEMO-0001",
        "quiet": False,
    }
    return ReminderDue(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({}, None),
        ({"paid": True}, "paid"),
        ({"amount_left": Decimal(0)}, "paid"),
        ({"case_state": "defaulted"}, "not_active"),
        ({"reachable": False}, "unreachable"),
        ({"due_date": date(2028, 6, 2)}, "moved"),
        ({"quiet": True}, "quiet"),
        ({"quiet": True, "essential": True}, None),  # the final notice goes after /quiet
        ({"payment_waiting": True}, "reported"),
        ({"payment_waiting": True, "essential": True}, None),
        ({"paid": True, "quiet": True}, "paid"),  # the truest reason first
    ],
)
def test_why_a_due_reminder_is_not_sent(changes: dict[str, object], why: str | None) -> None:
    assert why_not_sent(_due(**changes)) == why


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"reminder_days": "-3,x"}, "LOANBRIDGE_REMINDER_DAYS"),
        ({"send_window_start": time(21), "send_window_end": time(8)}, "LOANBRIDGE_SEND_WINDOW_END"),
        ({"collection_daily_cap": 0}, "LOANBRIDGE_COLLECTION_DAILY_CAP"),
    ],
)
def test_bad_settings_stop_with_one_line_naming_them(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(**overrides)
    assert str(error.value).startswith(f"{named}: ") and "\n" not in str(error.value)
