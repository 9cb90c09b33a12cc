"""The answer readers steps are built from: what they accept, and that they refuse everything else kindly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.domain import Channel
from dialogs.flows import inputs
from dialogs.flows.base import Ctx, Invalid
from dialogs.messages import Inbound, InboundKind


class _Turn:
    now = datetime(2026, 11, 28, tzinfo=UTC)


CTX: Any = Ctx(_Turn(), None, None)  # type: ignore[arg-type]


def _text(payload: str, kind: InboundKind = InboundKind.TEXT, **extra: Any) -> Inbound:
    return Inbound(Channel.TERMINAL, "u", "u", "k", kind, payload, extra=extra)


@pytest.mark.parametrize(
    ("typed", "amount"), [("3500", "3500.00"), ("¥1,234.5", "1234.50"), ("0", "0.00"), ("12元", "12.00")]
)
def test_money_reads_what_people_type(typed: str, amount: str) -> None:
    assert inputs.money()(CTX, _text(typed)) == Decimal(amount)


@given(st.text(max_size=60))
def test_money_returns_an_amount_in_range_or_says_why(typed: str) -> None:
    try:
        amount = inputs.money(maximum=Decimal(1000))(CTX, _text(typed))
    except Invalid as invalid:
        assert invalid.template.startswith("errors/money")
    else:
        assert Decimal(0) <= amount <= Decimal(1000)
        assert amount == amount.quantize(Decimal("0.01"))


@given(st.text(max_size=12))
def test_whole_numbers_stay_in_their_range(typed: str) -> None:
    try:
        value = inputs.whole_number(minimum=1, maximum=360, example="24")(CTX, _text(typed))
    except Invalid as invalid:
        assert invalid.template == "errors/number"
    else:
        assert 1 <= value <= 360


def test_a_calendar_date_is_read_in_iso_form_only() -> None:
    assert inputs.calendar_date(CTX, _text("2026-11-03")) == date(2026, 11, 3)
    for typed in ("3/11/2026", "2026-13-01", "2026-11-03T10:00", ""):
        with pytest.raises(Invalid):
            inputs.calendar_date(CTX, _text(typed))


def test_a_file_needs_its_hash_and_size_and_a_sane_size() -> None:
    good = {"ref": "f1", "size": 10, "sha256": "a" * 64, "name": "x.png"}
    assert inputs.file(CTX, _text("", InboundKind.FILE, **good)).sha256 == "a" * 64
    with pytest.raises(Invalid, match="errors/file_unreadable"):
        inputs.file(CTX, _text("", InboundKind.FILE, **{**good, "sha256": "nothex"}))
    with pytest.raises(Invalid, match="errors/file_too_big"):
        inputs.file(CTX, _text("", InboundKind.FILE, **{**good, "size": 10**9}))
    with pytest.raises(Invalid, match="errors/file_expected"):
        inputs.file(CTX, _text("a text"))


def test_a_phone_is_normalised_and_a_contact_must_be_ones_own() -> None:
    assert inputs.phone(CTX, _text("138 1234 5678")) == "+8613812345678"
    assert inputs.phone(CTX, _text("+8613812345678", InboundKind.CONTACT, own=True)) == "+8613812345678"
    with pytest.raises(Invalid, match="errors/contact_not_own"):
        inputs.phone(CTX, _text("+8613812345678", InboundKind.CONTACT, own=False))


@pytest.mark.parametrize(
    ("hint", "locale"),
    [
        (None, None),
        ("C.UTF-8", None),
        ("POSIX", None),
        ("en-GB", "en"),
        ("zh-hans", "zh_CN"),
        ("zh_TW.UTF-8", "zh_CN"),
        ("ru", "en"),
    ],
)
def test_a_channels_language_hint_picks_one_of_ours(hint: str | None, locale: str | None) -> None:
    from dialogs.locales import pick_locale

    assert pick_locale(hint) == locale
