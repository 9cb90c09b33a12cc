"""Typed words and numbers that press a button on a text channel, and those that must stay an answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rendering import RenderedButton
from bot.typed_choices import typed_choice

CONSENT_ZH = (RenderedButton("1.yes", "我同意"), RenderedButton("1.no", "我不同意"))
CONSENT_EN = (RenderedButton("1.yes", "I consent"), RenderedButton("1.no", "I do not consent"))
SUMMARY = (RenderedButton("2.ok", "Yes, that&#39;s right"), RenderedButton("2.fix", "Correct a figure"))
CODE = (RenderedButton("3.resend", "Send a new code"),)
REASONS_ZH = (RenderedButton("4.job", "失业"), RenderedButton("4.ill", "生病或受伤"))
REASONS_EN = (RenderedButton("4.job", "Lost my job"), RenderedButton("4.ill", "Illness or injury"))
KEEP = (RenderedButton("5.keep", "Keep ¥850.00"),)
SKIP = (RenderedButton("6.skip", "跳过"),)
SKIP_EN = (RenderedButton("6.skip", "Skip"),)


@pytest.mark.parametrize(
    ("typed", "buttons", "choice"),
    [
        ("同意", CONSENT_ZH, "1.yes"),
        ("我同意！", CONSENT_ZH, "1.yes"),
        ("不同意", CONSENT_ZH, "1.no"),
        ("i consent", CONSENT_EN, "1.yes"),
        ("  I CONSENT. ", CONSENT_EN, "1.yes"),
        ("consent", CONSENT_EN, "1.yes"),
        ("I don't consent", CONSENT_EN, "1.no"),  # the table of words of one meaning says so
        ("yes", CONSENT_EN, "1.yes"),
        ("no", CONSENT_EN, "1.no"),
        ("好的", CONSENT_ZH, "1.yes"),
        ("no", SUMMARY, "2.fix"),
        ("ok", SUMMARY, "2.ok"),
        ("correct", SUMMARY, "2.ok"),  # "that is correct", not "Correct a figure"
        ("correct a figure", SUMMARY, "2.fix"),
        ("失业了", REASONS_ZH, "4.job"),
        ("illness", REASONS_EN, "4.ill"),
        ("sick", REASONS_EN, "4.ill"),
        ("keep", KEEP, "5.keep"),
        ("850", KEEP, None),  # an amount, not the button that names it
        ("没有", SKIP, "6.skip"),
        ("none", SKIP_EN, "6.skip"),
        ("我不想跳过", SKIP, None),
        ("我不想跳过这一步，我有截图", SKIP, None),
        ("I do not consent", CONSENT_EN, "1.no"),
        ("yes", SUMMARY, "2.ok"),
        ("yes that's right", SUMMARY, "2.ok"),
        ("2", SUMMARY, "2.fix"),
        ("２", SUMMARY, "2.fix"),
        ("3", SUMMARY, None),
        ("1", CODE, "3.resend"),
        ("01", CODE, None),
        ("000001", CODE, None),
        ("123456", CODE, None),
        ("maybe", CONSENT_EN, None),
    ],
)
def test_a_typed_line_presses_the_button_it_names(
    typed: str, buttons: tuple[RenderedButton, ...], choice: str | None
) -> None:
    pressed = typed_choice(typed, buttons)
    assert (pressed.choice if pressed else None) == choice


@given(st.text(alphabet="0123456789 ", min_size=2, max_size=8).filter(lambda t: t.strip().startswith("0")))
def test_a_number_with_a_leading_zero_is_never_a_button(typed: str) -> None:
    assert typed_choice(typed, CODE * 10) is None


@given(st.text(max_size=200))
def test_any_line_presses_at_most_an_offered_button(typed: str) -> None:
    pressed = typed_choice(typed, CONSENT_ZH + SUMMARY)
    assert pressed is None or pressed in CONSENT_ZH + SUMMARY
