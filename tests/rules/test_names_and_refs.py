"""Names and loan references as people type them: what may be a name, and which references are the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.rules.identity import InvalidName, check_person_name, normalise_loan_ref, same_person_name

NAMES = [
    ("张伟", "张伟"),
    (" 张  伟 ", "张 伟"),
    ("Zhang Wei", "Zhang Wei"),
    ("阿卜杜·热合曼", "阿卜杜·热合曼"),
    ("O'Brien", "O'Brien"),
    ("Jean-Luc", "Jean-Luc"),
]
NOT_NAMES = ["DEMO-0001", "张伟123", "张伟１２３", "😀", "张伟😀", "", "  ", "-", "@@", "x" * 51]
SAME_REF = ["DEMO-0001", "demo-0001", " DEMO 0001 ", "demo0001", "ＤＥＭＯ－０００１", "Demo_0001"]


@pytest.mark.parametrize(("typed", "name"), NAMES)
def test_a_name_in_any_script_is_a_name(typed: str, name: str) -> None:
    assert check_person_name(typed) == name


@pytest.mark.parametrize("typed", NOT_NAMES)
def test_digits_emoji_and_symbols_are_not_a_name(typed: str) -> None:
    with pytest.raises(InvalidName):
        check_person_name(typed)


@given(st.text(max_size=80))
def test_any_text_is_a_name_without_digits_or_refused(typed: str) -> None:
    try:
        name = check_person_name(typed)
    except InvalidName:
        return
    assert name and len(name) <= 50
    assert not any(char.isdigit() for char in name)


@pytest.mark.parametrize("typed", SAME_REF)
def test_a_reference_matches_however_it_is_spaced_dashed_or_cased(typed: str) -> None:
    assert normalise_loan_ref(typed) == normalise_loan_ref("DEMO-0001")


def test_different_references_stay_different() -> None:
    assert normalise_loan_ref("DEMO-0001") != normalise_loan_ref("DEMO-0002")


@given(st.text(max_size=40))
def test_normalising_a_reference_is_stable(typed: str) -> None:
    once = normalise_loan_ref(typed)
    assert normalise_loan_ref(once) == once
    if typed.isascii():
        assert normalise_loan_ref(typed.lower()) == normalise_loan_ref(typed.upper())


@pytest.mark.parametrize(
    ("typed", "booked", "same"),
    [
        ("张 伟", "张伟", True),
        ("欧阳  娜娜", "欧阳娜娜", True),
        (" 张伟 ", "张 伟", True),
        ("Li Wei", "Li Wei", True),
        ("LiWei", "Li Wei", False),  # between Latin letters a space is part of the name
        ("张伟", "张玮", False),
    ],
)
def test_spaces_beside_han_characters_do_not_tell_names_apart(typed: str, booked: str, same: bool) -> None:
    assert same_person_name(typed, booked) is same
