"""Amounts as people type them, in Chinese and in English: every form reads as the exact Decimal meant."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.errors import InvalidInput
from dialogs.rules.chinese_numbers import parse_chinese_number
from dialogs.rules.money import MAX_AMOUNT, AmountTooLarge, NegativeAmount, parse_typed_amount

_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


def chinese(number: int) -> str:
    """The standard written form below 一亿: 三千五百, 一万零五十, 二千万零一 (a reference form)."""
    if number == 0:
        return "零"
    high, low = divmod(number, 10_000)
    if not high:
        return _section(low)
    written = _section(high) + "万"
    if low:
        written += ("零" if low < 1000 else "") + _section(low)
    return written


def _section(number: int) -> str:
    written, gap = "", False
    for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit = number // size % 10
        if not digit:
            gap = gap or bool(written)
            continue
        written += ("零" if gap else "") + _DIGITS[digit] + unit
        gap = False
    return written


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("三千", "3000.00"),
        ("3千", "3000.00"),
        ("0.5万", "5000.00"),
        ("1.2万元", "12000.00"),
        ("3000块", "3000.00"),
        ("3000块钱", "3000.00"),
        ("￥3,000", "3000.00"),
        ("¥3,000", "3000.00"),
        ("3,000.50", "3000.50"),
        ("3000 yuan", "3000.00"),
        ("RMB 3000", "3000.00"),
        ("三千五百", "3500.00"),
        ("三千五", "3500.00"),
        ("两千", "2000.00"),
        ("一万二", "12000.00"),
        ("1万2", "12000.00"),
        ("两万五千", "25000.00"),
        ("三千零五十", "3050.00"),
        ("十五", "15.00"),
        ("壹仟伍佰元整", "1500.00"),
        ("３０００", "3000.00"),
        ("３，０００．５０", "3000.50"),
        ("3k", "3000.00"),
        ("0", "0.00"),
    ],
)
def test_an_amount_reads_as_typed(typed: str, amount: str) -> None:
    assert parse_typed_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["-5", "-¥3,000", "−300", "负三千", "- 20 元"])
def test_a_negative_amount_is_told_apart(typed: str) -> None:
    with pytest.raises(NegativeAmount):
        parse_typed_amount(typed)


@pytest.mark.parametrize("typed", ["1" + "0" * 40, "99999999999", "200亿", "9" * 500])
def test_a_huge_amount_is_too_large_not_malformed(typed: str) -> None:
    with pytest.raises(AmountTooLarge):
        parse_typed_amount(typed)


@pytest.mark.parametrize(
    "typed",
    ["lots", "1.234", "1e5", "NaN", "Infinity", "3,00", "1.2.3", "¥", "元", "千", "五五", "3千千", ""],
)
def test_what_is_not_an_amount_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_typed_amount(typed)
    assert not isinstance(refused.value, NegativeAmount | AmountTooLarge)


fen = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False)


@given(fen, st.sampled_from(["{}", "¥{}", "￥{}", "{}元", "{}块", "{} yuan", " {} "]), st.booleans())
def test_an_amount_written_with_commas_signs_and_words_reads_back(
    amount: Decimal, shape: str, full_width: bool
) -> None:
    for written in (f"{amount:f}", f"{amount:,.2f}"):
        typed = shape.format(written)
        typed = typed.translate(_FULL_WIDTH) if full_width else typed
        assert parse_typed_amount(typed) == amount, typed


@given(st.integers(min_value=0, max_value=99_999_999))
def test_chinese_numerals_read_back(number: int) -> None:
    assert parse_chinese_number(chinese(number)) == number
    assert parse_typed_amount(chinese(number) + "元") == number


@given(st.integers(min_value=1, max_value=99_999_999))
def test_wan_with_decimals_reads_back(number: int) -> None:
    wan = Decimal(number) / 10_000
    assert parse_typed_amount(f"{wan:f}万") == number


@given(fen.filter(lambda amount: amount > 0))
def test_a_minus_sign_always_says_negative(amount: Decimal) -> None:
    with pytest.raises(NegativeAmount):
        parse_typed_amount(f"-{amount:,}")


_AMOUNT_ALPHABET = "0123456789,. -¥￥元块万千百十零一二两三五九亿kwyuanRMB负壹佰" + "\u3000"


@given(st.one_of(st.text(max_size=60), st.text(alphabet=_AMOUNT_ALPHABET, max_size=30)))
def test_any_text_is_an_amount_in_fen_or_refused(typed: str) -> None:
    try:
        amount = parse_typed_amount(typed)
    except InvalidInput:
        return
    assert Decimal(0) <= amount <= MAX_AMOUNT
    assert amount == amount.quantize(Decimal("0.01"))
