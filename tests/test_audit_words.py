"""``loanbridge audit verify`` speaks the reader's language (trial 2: it answered in English only): every
problem the audit can find has its own words in each locale, and the module reports no other."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.audit import report_text
from dialogs.locales import LOCALES
from storage.case_log import Head
from storage.log_audit import PROBLEMS, AuditReport, Finding

FACTS = {
    "size": 9,
    "key": "1a2b3c4d",
    "at": "2026-12-01T10:06:00.000000Z",
    "first": 4,
    "last": 6,
    "later": 2,
    "old": 9,
    "new": 12,
    "other_case": 1,
    "other_seq": 9,
    "fields": ["at", "details"],
}
KEY = Ed25519PrivateKey.generate().public_key()
HEAD = Head(12, b"\0" * 32, datetime(2026, 12, 1, 10, 6, tzinfo=UTC), b"\0" * 64, "ab" * 32)


def test_the_module_names_only_problems_it_has_words_for() -> None:
    source = Path("storage/log_audit.py").read_text(encoding="utf-8")
    named = set(re.findall(r'Finding\(\s*"([a-z_]+)"', source))
    assert named == PROBLEMS


@pytest.mark.parametrize("locale", LOCALES)
def test_every_problem_is_said_in_words(locale: str) -> None:
    findings = [Finding(problem, FACTS, 1, 5) for problem in sorted(PROBLEMS)]
    report = AuditReport(entries=1234, heads=3, latest=HEAD, findings=findings)
    text = report_text(report, KEY, locale)
    lines = text.splitlines()
    problem_lines = lines[3:-1]
    assert len(problem_lines) == len(PROBLEMS), lines
    for line in problem_lines:
        assert line.split("#5", 1)[1].lstrip(":： ") not in PROBLEMS, line  # words, not the bare code
    english = {"en": True, "zh_CN": False}[locale]
    assert lines[0] == (
        "checked 1,234 log entries and 3 signed heads"
        if english
        else "检查了 1,234 条日志记录和 3 个已签名的树头"
    )
    assert (
        lines[-1].startswith("FAILED: 13 problems found")
        if english
        else lines[-1].startswith("未通过：发现 13 个问题")
    )
    changed = next(line for line in problem_lines if "#5" in line and ("differ" in line or "不一致" in line))
    assert ("(time, details differ)" in changed) if english else ("（时间、详情不一致）" in changed)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_clean_log_says_so(locale: str) -> None:
    text = report_text(AuditReport(entries=5, heads=1, latest=HEAD), KEY, locale)
    assert text.splitlines()[-1].startswith("OK: every event" if locale == "en" else "通过：每个事件")
