"""Every example the bot shows passes the check it illustrates: an example that is refused teaches a mistake.

Each step's reader is given answers it must refuse; every ``example`` its explanations carry is rendered in
every locale, and then typed back into the same step, which must take it. Examples written into templates
(ID and phone numbers) are checked with their validators too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.conversation import Conversation
from dialogs.domain import Account, Channel, Role
from dialogs.flows import ALL_FLOWS
from dialogs.flows.base import Ctx, Invalid, Step
from dialogs.locales import LOCALES
from dialogs.messages import Inbound, InboundKind, Outbound
from dialogs.rules.identity import (
    InvalidName,
    check_person_name,
    normalise_loan_ref,
    normalise_phone,
    validate_resident_id,
)
from templates import TEMPLATE_DIR

# Answers no step takes: each draws the step's explanation, with its example when it has one.
WRONG = [
    ("", InboundKind.FILE),
    ("☃", InboundKind.TEXT),
    ("-5", InboundKind.TEXT),
    ("x" * 5000, InboundKind.TEXT),
]
ID_LIKE = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
PHONE_LIKE = re.compile(r"(?<![\d*+])1[3-9]\d{9}(?![\d*])")


class _Turn:
    """What a step's check may read: the time, and whose turn it is (a borrower in Shanghai)."""

    now = datetime(2026, 11, 28, tzinfo=UTC)
    account = Account(1, Channel.TERMINAL, "u", Role.BORROWER, "en", "Asia/Shanghai", reachable=True)


def _ctx() -> Any:
    return Ctx(_Turn(), Conversation(1), None)  # type: ignore[arg-type]


def _inbound(payload: str, kind: InboundKind = InboundKind.TEXT) -> Inbound:
    return Inbound(Channel.TERMINAL, "u", "u", "k", kind, payload)


def _explanations(step: Step) -> list[Invalid]:
    found = []
    for payload, kind in WRONG:
        try:
            step.accept(_ctx(), _inbound(payload, kind))
        except Invalid as invalid:
            if invalid.context.get("example"):
                found.append(invalid)
    return found


STEPS = [(f"{flow.name}:{name}", step) for flow in ALL_FLOWS for name, step in flow.steps.items()]
WITH_EXAMPLES = [(where, step, invalid) for where, step in STEPS for invalid in _explanations(step)]


def test_the_examples_were_found() -> None:
    steps = {where for where, _, _ in WITH_EXAMPLES}
    assert {"verify:id_number", "verify:phone", "verify:code", "verify:name", "verify:ref"} <= steps
    assert {"finances:net_monthly_income", "plans:own_months", "plans:own_amount"} <= steps


def _example_id(value: object) -> str:
    """Stable test names: a step's repr carries an address, which differs between xdist workers."""
    if isinstance(value, Invalid):
        return value.template
    return value if isinstance(value, str) else ""


@pytest.mark.parametrize(("where", "step", "invalid"), WITH_EXAMPLES, ids=_example_id)
def test_an_example_is_taken_by_the_step_that_shows_it(where: str, step: Step, invalid: Invalid) -> None:
    example = str(invalid.context["example"])
    try:
        step.accept(_ctx(), _inbound(example))
    except Invalid as refused:
        pytest.fail(f"{where} refuses its own example {example!r}: {refused.template}")


@pytest.mark.parametrize(("where", "step", "invalid"), WITH_EXAMPLES, ids=_example_id)
def test_an_example_is_shown_in_every_language(where: str, step: Step, invalid: Invalid) -> None:
    renderer = Renderer()
    for locale in LOCALES:
        account = Account(1, Channel.TERMINAL, "u", Role.BORROWER, locale, "Asia/Shanghai", reachable=True)
        text = plain(renderer.render(Outbound(1, invalid.template, invalid.context), account).text)
        assert str(invalid.context["example"]) in text, (where, locale, text)


def test_the_id_example_passes_its_check_digit() -> None:
    (invalid,) = {i.template: i for _, _, i in WITH_EXAMPLES if i.template == "errors/id_number"}.values()
    assert validate_resident_id(invalid.context["example"]).number == invalid.context["example"]


def test_the_loan_reference_example_looks_like_a_reference_not_a_name() -> None:
    examples = {str(i.context["example"]) for where, _, i in WITH_EXAMPLES if where == "verify:ref"}
    for example in examples:
        assert re.fullmatch(r"[A-Z]+\d+", normalise_loan_ref(example)), example  # like DEMO-0001
        with pytest.raises(InvalidName):
            check_person_name(example)


@pytest.mark.parametrize(
    "path", sorted(TEMPLATE_DIR.rglob("*.j2")), ids=lambda p: str(p.relative_to(TEMPLATE_DIR))
)
def test_numbers_written_into_templates_pass_their_checks(path: Any) -> None:
    source = path.read_text(encoding="utf-8")
    for number in ID_LIKE.findall(source):
        validate_resident_id(number)
    for number in PHONE_LIKE.findall(source):
        normalise_phone(number)
