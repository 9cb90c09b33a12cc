"""Wording a test can check: the patterns the third user trial found, in every template (trial 3, item 5).

Chinese texts call the lender institution 贷款机构 (not 贷款方), put no space between a date and the verb
after it ("2027年1月2日到期"), set a Latin name such as "Demo Lender" apart with spaces, say "第 1 期还款
¥77.39" (not "第 1 期 ¥77.39", which reads as the first of ¥77.39 parts), and never show a state by its
English name (/cases 协商中, state:协商中 are understood). Texts that only a mediator reads address them
("you"), not "the mediator".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialogs.broadcasts import parse_segment
from dialogs.lifecycle import STATE_WORDS_ZH, CaseState, state_named
from templates import TEMPLATE_DIR
from tests.test_template_wording import _render

ZH = TEMPLATE_DIR / "zh_CN"
CJK = "\u4e00-\u9fff"
_CODE = re.compile(r"\{%.*?%\}|\{#.*?#\}")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
# A date or a moment, then a space, then a Chinese character: "{{ due|day }} 到期".
_DATE_SPACE = re.compile(rf"\|(?:day|moment)\s*\}}\}} [{CJK}]")
# A lender's name (Latin in practice: "Demo Lender") touching a Chinese character on either side.
_LENDER_TOUCHING = re.compile(rf"[{CJK}]\{{\{{[^}}]*lender[^}}]*\}}\}}|\{{\{{[^}}]*lender[^}}]*\}}\}}[{CJK}]")
_LATIN_TOUCHING = re.compile(rf"[{CJK}][A-Za-z]{{2,}}|[A-Za-z]{{2,}}[{CJK}]")
# "第 {{ n }} 期 {{ amount|money }}": the number of the instalment, then straight its amount.
_PART_AMOUNT = re.compile(r"第 \{\{[^}]*\}\} 期 \{\{[^}]*\|money")
_STATE_NAMES = re.compile(r"\b(?:" + "|".join(state.value for state in CaseState) + r")\b")
# Templates only a mediator reads: they speak to the mediator.
MEDIATOR_ONLY = (
    "mediate/case",
    "mediate/message_text",
    "mediate/message_sent",
    "mediate/split_confirm",
    "mediate/split_sent",
    "mediate/extend_hours",
    "mediate/close_reason",
    "mediate/reports",
    "mediate/report_note",
    "review/case",
    "review/brief",
    "review/queue",
    "review/more_question",
)


def _zh() -> dict[str, list[str]]:
    return {
        str(p.relative_to(ZH)): p.read_text(encoding="utf-8").splitlines() for p in sorted(ZH.rglob("*.j2"))
    }


def _found(pattern: re.Pattern[str], *, text_only: bool = False) -> list[str]:
    """``file:line`` of every Chinese template line matching; ``text_only`` looks at the words alone."""
    hits = []
    for name, lines in _zh().items():
        for number, line in enumerate(lines, 1):
            seen = _PLACEHOLDER.sub("␀", _CODE.sub("␀", line)) if text_only else line
            if pattern.search(seen):
                hits.append(f"{name}:{number}")
    return hits


def test_the_lender_institution_is_called_dai_kuan_ji_gou() -> None:
    assert not _found(re.compile("贷款方(?!案)")), "贷款方: the lender institution is 贷款机构"


def test_no_space_between_a_date_and_the_verb_after_it() -> None:
    assert not _found(_DATE_SPACE)


def test_latin_names_are_set_apart_from_chinese_with_spaces() -> None:
    assert not _found(_LENDER_TOUCHING)
    assert not _found(_LATIN_TOUCHING, text_only=True)


def test_an_instalments_amount_is_said_as_its_repayment() -> None:
    assert not _found(_PART_AMOUNT)
    reminder = _render("reminders/instalment", "zh_CN", number=1, amount="77.39", days=3)
    assert "第 1 期还款 ¥77.39" in reminder, reminder


def test_chinese_texts_never_show_a_state_by_its_english_name() -> None:
    assert not _found(_STATE_NAMES, text_only=True)
    assert "state:active" not in _render("broadcast/preview", "zh_CN", segment="state:active")
    assert "还款方案执行中" in _render("broadcast/preview", "zh_CN", segment="state:active")


def test_the_chinese_state_words_are_understood_and_belong_to_their_labels() -> None:
    labels = (ZH / "labels.j2").read_text(encoding="utf-8")
    for word, state in STATE_WORDS_ZH.items():
        label = re.search(rf"macro state_{state.value}\(\) %\}}(.*?)\{{% endmacro", labels)
        assert label and word in label.group(1), (word, state)
        assert state_named(word) is state and state_named(state.value.upper()) is state
    assert set(STATE_WORDS_ZH.values()) == set(CaseState)
    assert parse_segment("state:协商中").value == "negotiating"
    assert state_named("Demo") is None


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_texts_only_a_mediator_reads_speak_to_them(locale: str) -> None:
    third = re.compile(r"(?<!you, )\bthe mediators?\b" if locale == "en" else r"(?<!您（)调解员(?!）)")
    speaking_of = []
    for name in MEDIATOR_ONLY:
        text = Path(TEMPLATE_DIR / locale / f"{name}.j2").read_text(encoding="utf-8")
        if third.search(text):
            speaking_of.append(name)
    assert not speaking_of
    staff = _render("status/staff", locale, queue=2, stuck=1, asking=1)
    assert ("with you and the other mediators" if locale == "en" else "在您和其他调解员处") in staff
