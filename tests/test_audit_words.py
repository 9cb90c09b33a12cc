"""``loanbridge audit verify`` speaks the reader's language (trial 2: it answered in English only): every
problem the audit can find has its own words in each locale, and the module reports no other."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.audit import report_text
from dialogs.locales import LOCALES
from storage.case_log import Head
from storage.log_audit import PROBLEMS, AuditReport, Finding
from storage.signing import Signer, decode_signing_key, generate_signing_key
from tests.conftest import TEST_SECRET, FakeClock
from tests.test_audit_tamper import ROOT, agreed_case

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


def test_the_latest_head_is_dated_in_the_readers_zone_as_verify_dates_it() -> None:
    shanghai = (ZoneInfo("Asia/Shanghai"), "Asia/Shanghai")
    text = report_text(AuditReport(entries=5, heads=1, latest=HEAD), KEY, "zh_CN", shanghai)
    assert "最新树头：大小 12，签名时间 2026-12-01 18:06:00 UTC+08:00 (Asia/Shanghai)" in text
    assert "2026-12-01T10:06" not in text
    assert "signed 2026-12-01 10:06:00 UTC" in report_text(AuditReport(5, 1, latest=HEAD), KEY, "en")


async def test_audit_head_says_what_it_is_in_the_readers_language_and_keeps_the_signed_text(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    seed = generate_signing_key()
    await agreed_case(database_url, clock, Signer(decode_signing_key(seed)))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": seed,
        "LANG": "zh_CN.UTF-8",
        "TZ": "Asia/Shanghai",
    }
    command = [sys.executable, "-m", "bot.cli", "audit", "head"]
    printed = await asyncio.to_thread(
        subprocess.run,
        command,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stderr.startswith("案件日志最新的已签名树头：")
    assert re.search(r"签名时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+08:00 \(Asia/Shanghai\)", printed.stderr)
    assert "请原样公开" in printed.stderr
    # What is published is exactly what was signed: its format's own words, nothing else.
    assert printed.stdout.startswith("LoanBridge case log tree head v1\n")
    assert not re.search("[\u4e00-\u9fff]", printed.stdout)
