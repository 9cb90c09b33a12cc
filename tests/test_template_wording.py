"""How the templates read to a person: the same name for each party, words rather than "(s)"."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.messages import Outbound
from templates import TEMPLATE_DIR
from tests.test_templates import SAMPLES


def _zh_sources() -> dict[str, str]:
    root = TEMPLATE_DIR / "zh_CN"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*.j2")}


def test_chinese_calls_the_lender_by_one_name() -> None:
    mixed = sorted(name for name, text in _zh_sources().items() if "出借方" in text)
    assert not mixed, f"出借方 still used (the lender is 贷款机构): {mixed}"


def _en_names() -> list[str]:
    root = TEMPLATE_DIR / "en"
    return sorted(
        str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.j2") if p.name != "labels.j2"
    )


@pytest.mark.parametrize("count", [1, 2])
def test_no_rendered_text_hedges_a_plural_with_s_in_brackets(count: int) -> None:
    numbers = ("count", "months", "remaining", "limit", "queue", "stuck", "evidence", "tolerance")
    hedged = []
    for name in _en_names():
        overdue = {**SAMPLES["case"], "overdue_days": count}
        cases = count if name == "mydata/export" else SAMPLES["cases"]  # a count there, a list elsewhere
        text = _render(name, **dict.fromkeys(numbers, count), case=overdue, kept=[3] * count, cases=cases)
        if "(s)" in text:
            hedged.append(name)
    assert not hedged


def test_plurals_read_as_words_for_one_and_for_many() -> None:
    assert "1 attempt left" in _render("verify/wrong_code", remaining=1)
    assert "2 attempts left" in _render("verify/wrong_code", remaining=2)
    assert "Sent to 1 person." in _render("mediate/message_sent", count=1)
    assert "Sent to 3 people." in _render("mediate/message_sent", count=3)
    assert "1 case needs a mediator" in _render("mediate/list", count=1)
    assert "24 months" in _render("plans/own_confirm")


_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}")


def _render(name: str, locale: str = "en", **context: Any) -> str:
    recipient = Account(1, Channel.TERMINAL, "alice", Role.BORROWER, locale, "Asia/Shanghai", reachable=True)
    return plain(Renderer().render(Outbound(1, name, {**SAMPLES, **context}), recipient).text)


def test_status_puts_the_lender_and_the_state_on_separate_lines() -> None:
    lines = _render("status/show").splitlines()
    assert "Application 7 – loan DEMO-0001 with Demo Lender" in lines
    assert "State: in negotiation" in lines
    assert any(line.startswith("Pending offer:") for line in lines)
    assert "Timeline:" in lines


def test_the_interest_information_keeps_one_fact_per_line() -> None:
    lines = _render("legal/apr").splitlines()
    assert lines[-3].startswith("Your loan is above that level")
    assert lines[-2].startswith("Overdue interest, penalties and fees")
    assert lines[-1].startswith("This is information, not legal advice")
    assert "" not in _render("legal/apr", charges_over_cap="0").splitlines()


def test_the_lenders_counter_offer_confirmation_asks_on_its_own_line() -> None:
    for locale, question in (("en", "Send it?"), ("zh_CN", "发送吗？")):
        assert _render("negotiate/counter_confirm", locale).splitlines()[-1] == question


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_no_line_of_text_loses_its_line_break_to_a_closing_tag(locale: str) -> None:
    """With trim_blocks, ``text{% endif %}`` at the end of a line swallows the newline: ``+%}`` keeps it."""
    run_together = []
    for path in sorted((TEMPLATE_DIR / locale).rglob("*.j2")):
        if path.name == "labels.j2":
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, (line, following) in enumerate(itertools.pairwise(lines), 1):
            ends_in_tag = line.rstrip().endswith("%}") and not line.rstrip().endswith("+%}")
            if ends_in_tag and _TAG.sub("", line).strip() and following.strip():
                run_together.append(f"{path.relative_to(TEMPLATE_DIR)}:{number}")
    assert not run_together


_PRESS = re.compile(r"\bpress(?:es|ed|ing)?\b|点击|点按|按钮", re.IGNORECASE)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_no_message_asks_to_press_a_button(locale: str) -> None:
    """The terminal shows choices as numbered lines: "choose" / "选择" reads right on every channel."""
    pressing = [
        str(path.relative_to(TEMPLATE_DIR))
        for path in sorted((TEMPLATE_DIR / locale).rglob("*.j2"))
        if _PRESS.search(path.read_text(encoding="utf-8"))
    ]
    assert not pressing


def test_type_its_number_is_said_only_where_choices_are_numbered() -> None:
    terminal = Account(1, Channel.TERMINAL, "alice", Role.BORROWER, "en", "Asia/Shanghai", reachable=True)
    telegram = Account(1, Channel.TELEGRAM, "alice", Role.BORROWER, "en", "Asia/Shanghai", reachable=True)
    message = Outbound(1, "errors/use_buttons", {})
    assert "type its number" in Renderer().render(message, terminal).text
    assert "number" not in Renderer().render(message, telegram).text
