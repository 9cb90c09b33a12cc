"""Typed words and numbers that press a button on a text channel, and those that must stay an answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rendering import RenderedButton
from bot.typed_choices import typed_choice, typed_match

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


SCHEDULE = (RenderedButton("7.g:pay:1", "Report a payment"), RenderedButton("7.menu", "Menu"))
AGREEMENT_ZH = {"b": RenderedButton("8.g:confirm:1:1", "确认这份协议")}
MENU_ZH = (RenderedButton("9.status", "我的申请进度"), RenderedButton("9.plans", "方案与协商"))
REPORTS = (RenderedButton("10.pay", "Report a payment"), RenderedButton("10.abuse", "Report a problem"))


@pytest.mark.parametrize(
    ("typed", "buttons", "lettered", "pressed", "candidates"),
    [
        ("report payment", SCHEDULE, {}, "7.g:pay:1", ()),  # all its key words (trial 3, item 7)
        ("REPORT", SCHEDULE, {}, "7.g:pay:1", ()),  # a unique beginning
        ("ｒｅｐｏｒｔ ｐａｙ", SCHEDULE, {}, "7.g:pay:1", ()),  # full-width, and a word's beginning
        ("re", SCHEDULE, {}, None, ()),  # too short to name anything
        ("report", REPORTS, {}, None, ("1", "2")),  # fits both: listed, not guessed
        ("report payment", REPORTS, {}, "10.pay", ()),
        ("方案", MENU_ZH, {}, "9.plans", ()),
        ("b", MENU_ZH, AGREEMENT_ZH, "8.g:confirm:1:1", ()),  # its letter: pressed
        ("确认这份协议", MENU_ZH, AGREEMENT_ZH, "8.g:confirm:1:1", ()),  # its whole label: pressed
        ("确认", MENU_ZH, AGREEMENT_ZH, None, ("b",)),  # loose words never commit: named with its letter
        ("确认 协议", MENU_ZH, AGREEMENT_ZH, None, ("b",)),
        ("确认", MENU_ZH, {}, None, ()),
    ],
)
def test_loose_words_press_the_one_choice_they_name(
    typed: str,
    buttons: tuple[RenderedButton, ...],
    lettered: dict[str, RenderedButton],
    pressed: str | None,
    candidates: tuple[str, ...],
) -> None:
    match = typed_match(typed, buttons, lettered)
    assert (match.pressed.choice if match.pressed else None) == pressed
    assert tuple(mark for mark, _ in match.candidates) == candidates


def test_a_choice_shown_both_numbered_and_lettered_is_one_choice() -> None:
    confirm = RenderedButton("5.g:payok:1:2", "Confirm ¥400.00 received")
    match = typed_match("confirm 400", (confirm,), {"c": confirm})
    assert match.pressed == confirm  # a payment decision typed asks first in the dialogs (extra["typed"])


# Labels as the templates write them: words in either language, with letters in each
_WORD = st.sampled_from(
    ["report", "payment", "confirm", "agreement", "menu", "schedule", "move", "instalment", "help", "keep",
     "确认", "协议", "付款", "方案", "菜单", "还款", "帮助", "移到", "末尾", "这份"]
)  # fmt: skip
_LABEL = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)
_CHOICES = st.lists(_LABEL, min_size=1, max_size=6, unique_by=lambda label: label.replace(" ", ""))
_CHOICE_IDS = ["menu", "g:pay:1", "g:confirm:1:1", "accept", "g:payok:1:2", "keep"]


def _buttons(labels: list[str], ids: list[str]) -> tuple[RenderedButton, ...]:
    return tuple(RenderedButton(f"1.{ids[i % len(ids)]}#{i}", label) for i, label in enumerate(labels))


@given(_CHOICES, st.data())
def test_the_exact_label_always_presses_its_choice(labels: list[str], data: st.DataObject) -> None:
    buttons = _buttons(labels, _CHOICE_IDS)
    index = data.draw(st.integers(0, len(buttons) - 1))
    typed = data.draw(st.sampled_from([labels[index], labels[index].upper(), f" {labels[index]}！"]))
    assert typed_match(typed, buttons).pressed == buttons[index]


@given(_CHOICES, st.data(), st.text(max_size=30))
def test_words_never_press_one_of_two_choices_they_equally_name(
    labels: list[str], data: st.DataObject, noise: str
) -> None:
    """Two choices with one label: whatever is typed (but a number) presses neither of them."""
    twin = data.draw(st.sampled_from(labels))
    buttons = (*_buttons(labels, _CHOICE_IDS), RenderedButton("1.twin", twin))
    typed = data.draw(st.sampled_from([twin, twin.split()[0], twin[:2], noise]))
    pressed = typed_match(typed, buttons).pressed
    if not typed.strip().isdigit():
        assert pressed is None or pressed.label != twin


@given(_CHOICES, st.text(max_size=30))
def test_words_press_at_most_one_choice_and_list_several_only_when_they_fit_several(
    labels: list[str], typed: str
) -> None:
    match = typed_match(typed, _buttons(labels, _CHOICE_IDS))
    assert match.pressed is None or not match.candidates
    assert len({button.choice for _, button in match.candidates}) == len(match.candidates)
