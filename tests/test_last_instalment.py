"""Every text that states an instalment plan names a last instalment that differs from the others, in
both languages (trial 3, item 4: the borrower's view of 11 × ¥500 and a last ¥320 said only "¥500 a
month for 12 months"); an even plan says nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.messages import Outbound
from tests.test_templates import CASE, SAMPLES, _recipient, _variables

UNEVEN = {
    "kind": "interest_stopped_instalments",
    "months": 12,
    "monthly_amount": "500.00",
    "last_amount": "320.00",
    "total_repaid": "5820.00",
    "amount_waived": "0.00",
    "holiday_months": 0,
    "affordable": True,
    "void_if_missed": False,
    "own_terms": False,
    "annual_rate": "0",
    "above_protected": "0",
}
EVEN = {**UNEVEN, "last_amount": "500.00", "total_repaid": "6000.00"}
LAST = {"en": "(the last ¥320.00)", "zh_CN": "（最后一期 ¥320.00）"}
OFFER = {**CASE["offer"], "round": 1, "terms": UNEVEN}
# Every template that states a plan's instalments, with the context that carries the plan.
VIEWS: dict[str, dict[str, Any]] = {
    "negotiate/show": {"offer": OFFER, "history": []},
    "negotiate/new_offer": {"terms": UNEVEN},
    "negotiate/counter_confirm": {"terms": UNEVEN},
    "status/show": {"cases": [{**CASE, "offer": OFFER}]},
    "plans/own_confirm": {"plan": UNEVEN},
    "submit/review": {"plan": UNEVEN},
    "plans/options": {"options": [UNEVEN]},
}


def _render(name: str, plan_context: dict[str, Any], locale: str) -> str:
    renderer = Renderer()
    variables = _variables(renderer, f"{locale}/{name}.j2")
    context = {v: SAMPLES[v] for v in variables if v in SAMPLES} | plan_context
    return plain(renderer.render(Outbound(1, name, context), _recipient(locale)).text)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_different_last_instalment_is_named(locale: str, name: str) -> None:
    text = _render(name, VIEWS[name], locale)
    assert "320.00" in text, text
    if name != "plans/options":  # the list says it its own way: "(the last ¥320.00)" / "（最后一个月 …）"
        assert LAST[locale] in text, text


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_an_even_plan_names_no_last_instalment(locale: str) -> None:
    text = _render("negotiate/new_offer", {"terms": EVEN}, locale)
    assert LAST[locale].replace("320.00", "500.00") not in text and "500.00" in text
