"""Every template exists in every locale and renders there with sample data; the code names no missing one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta

from bot.rendering import LABELS, Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.flows.finances import NAMES as FIELD_NAMES
from dialogs.lifecycle import CaseState
from dialogs.locales import LOCALES
from dialogs.messages import Outbound
from templates import TEMPLATE_DIR

PLAN = {
    "kind": "term_extension_equal_instalment",
    "months": 24,
    "monthly_amount": "820.55",
    "last_amount": "820.60",
    "total_repaid": "19693.10",
    "amount_waived": "120.00",
    "holiday_months": 3,
    "affordable": True,
    "void_if_missed": True,
    "own_terms": False,
}
FIGURES = dict.fromkeys(FIELD_NAMES, "100.00")
CASE = {
    "id": 7,
    "state": "negotiating",
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "offer": {
        "kind": "discounted_settlement",
        "months": 1,
        "monthly_amount": "9000.00",
        "deadline_at": "2026-12-01T10:00:00+00:00",
    },
    "timeline": [{"at": "2026-11-02T09:30:00+00:00", "kind": "transition", "to_state": "submitted"}],
}
SAMPLES: dict[str, Any] = {
    "state": "draft",
    "role": "lender",
    "kept": [3],
    "command": "frobnicate",
    "example": "3500",
    "limit": 2000,
    "length": 2500,
    "maximum": 360,
    "minimum": 1,
    "limit_mb": 20,
    "remaining": 2,
    "phone": "138****5678",
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "owed": "15841.95",
    "resumed": True,
    "count": 2,
    "name": "张*",
    "figures": FIGURES,
    "essential": "4450.00",
    "disposable": "2050.00",
    "affordable": "1025.00",
    "options": [
        PLAN,
        {**PLAN, "affordable": False, "holiday_months": 0, "kind": "discounted_settlement", "months": 1},
    ],
    "nothing_affordable": False,
    "needed": "820.55",
    "months": 24,
    "plan": PLAN,
    "id_number": "110***********1239",
    "reason": "job_loss",
    "dispute": "wrong_amount",
    "lasting": False,
    "evidence": 1,
    "finances": {"income": "6500.00", "essential": "4450.00", "other_debts": "0.00", "savings": "2000.00"},
    "case_id": 7,
    "no_plan": False,
    "cases": [CASE],
    "contract_rate": "0.24",
    "apr": "0.2682",
    "simple": "0.24",
    "protected": "0.138",
    "lpr": "0.0345",
    "above": True,
    "over_cap": "1234.56",
    "charges_over_cap": "10.00",
    "indicative": False,
    "number": 3,
    "document": '{"account": {}}',
    "erased": ["finances"],
    "request_contact": True,
}
LABEL_ARGUMENTS = {
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "owed": "100.00",
    "kind": "payment_holiday",
    "monthly": "1.00",
}


def _names(locale: str) -> set[str]:
    root = TEMPLATE_DIR / locale
    return {str(path.relative_to(root).with_suffix("")) for path in root.rglob("*.j2")} - {"labels"}


def _macros(renderer: Renderer, locale: str) -> set[str]:
    module = renderer.env.get_template(f"{locale}/{LABELS}").make_module({"_locale": locale})
    return {name for name in dir(module) if not name.startswith("_")}


def _recipient(locale: str) -> Account:
    return Account(1, Channel.TERMINAL, "alice", Role.BORROWER, locale, "Asia/Shanghai", reachable=True)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_locale_has_every_template_and_label(locale: str) -> None:
    renderer = Renderer()
    assert _names(locale) == _names("en")
    assert _macros(renderer, locale) == _macros(renderer, "en")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(_names("en")))
def test_every_template_renders_with_sample_data(locale: str, name: str) -> None:
    renderer = Renderer()
    source = (TEMPLATE_DIR / locale / f"{name}.j2").read_text(encoding="utf-8")
    variables = meta.find_undeclared_variables(renderer.env.parse(source)) - {"label"}
    assert variables <= SAMPLES.keys(), f"no sample for {variables - SAMPLES.keys()}"
    rendered = renderer.render(Outbound(1, name, {v: SAMPLES[v] for v in variables}), _recipient(locale))
    assert rendered.text.strip()
    assert "{{" not in rendered.text and "{%" not in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_label_renders(locale: str) -> None:
    renderer = Renderer()
    module = renderer.env.get_template(f"{locale}/{LABELS}").make_module({"_locale": locale})
    for name in _macros(renderer, locale):
        macro = getattr(module, name)
        arguments = {a: LABEL_ARGUMENTS.get(a, "submitted") for a in macro.arguments}
        assert str(macro(**arguments)).strip(), name


def test_every_state_has_a_label() -> None:
    macros = _macros(Renderer(), "en")
    assert {f"state_{state.value}" for state in CaseState} <= macros


def test_money_and_dates_are_formatted_for_the_reader() -> None:
    renderer = Renderer()
    template = renderer.env.from_string("{{ amount|money }} {{ day|day }}")
    for locale, expected in (("zh_CN", "¥1,234.50 2026年12月1日"), ("en", "¥1,234.50 December 1, 2026")):
        assert template.render(amount="1234.5", day="2026-12-01", _locale=locale) == expected


def test_text_is_escaped_for_html_channels() -> None:
    renderer = Renderer()
    rendered = renderer.render(
        Outbound(1, "errors/unknown_command", {"command": "<b>x</b>"}), _recipient("en")
    )
    assert "&lt;b&gt;" in rendered.text


def test_the_code_names_only_templates_and_labels_that_exist() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in Path("dialogs").rglob("*.py"))
    templates = set(re.findall(r'"((?:[a-z_]+)/[a-z_]+)"', code)) - {"flow:step"}
    assert templates, "the pattern found nothing: it is broken"
    assert templates <= _names("en"), templates - _names("en")
    labels = set(re.findall(r'Choice\([^()]*?,\s*"([a-z_]+)"', code))
    assert labels <= _macros(Renderer(), "en"), labels - _macros(Renderer(), "en")
