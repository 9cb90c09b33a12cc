"""Resident ID numbers (GB 11643) and phone numbers (E.164), and the masks shown in their place."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.errors import InvalidIdNumber, InvalidPhone
from dialogs.masking import mask_id_number, mask_name, mask_phone
from dialogs.rules.identity import id_check_char, normalise_phone, validate_resident_id


def test_the_standard_example_number_is_valid() -> None:
    # The example of GB 11643-1999 itself: 11010519491231002X.
    assert id_check_char("11010519491231002") == "X"
    checked = validate_resident_id("11010519491231002x")
    assert (checked.number, checked.birth_date) == ("11010519491231002X", date(1949, 12, 31))


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("11010519491231002", "18 characters"),
        ("1101051949123100ZX", "18 characters"),
        ("110105194912310021", "check digit"),
        ("99010519491231002" + id_check_char("99010519491231002"), "region"),
        ("11010519491331002" + id_check_char("11010519491331002"), "not a real date"),
        ("11010518991231002" + id_check_char("11010518991231002"), "not possible"),
        ("11010520990101002" + id_check_char("11010520990101002"), "not possible"),
    ],
)
def test_bad_id_numbers_say_what_is_wrong(number: str, message: str) -> None:
    with pytest.raises(InvalidIdNumber, match=message):
        validate_resident_id(number, today=date(2026, 11, 28))


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_exactly_one_check_character_fits_any_seventeen_digits(first17: str) -> None:
    valid = [c for c in "0123456789X" if id_check_char(first17) == c]
    assert len(valid) == 1


@given(st.one_of(st.text(max_size=40), st.integers(), st.none()))
def test_arbitrary_input_is_a_domain_error_or_a_valid_number(value: object) -> None:
    try:
        checked = validate_resident_id(value)  # type: ignore[arg-type]
    except InvalidIdNumber:
        return
    assert id_check_char(checked.number[:17]) == checked.number[17]


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(text: str, e164: str) -> None:
    assert normalise_phone(text) == e164


@pytest.mark.parametrize("text", ["", "12", "hello", "1" * 60, "+86 000 0000 0000"])
def test_bad_phone_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(text)


@given(st.text(max_size=50))
def test_arbitrary_phone_text_never_crashes(text: str) -> None:
    with contextlib.suppress(InvalidPhone):
        assert normalise_phone(text).startswith("+")


def test_masks_show_enough_to_recognise_and_no_more() -> None:
    assert mask_id_number("110101199003071234") == "110***********1234"
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+85291234567") == "+85*****4567"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_id_number("123") == "***"
