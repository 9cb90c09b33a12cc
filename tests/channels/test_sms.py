"""Tencent Cloud SMS against a fake endpoint on 127.0.0.1, and `serve` choosing its code sender."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.codes import AfterReply, CodeNotSent
from bot.demo import DEMO_BORROWER
from bot.sms import TencentConfig, TencentSms
from tests.channels.fake_tencent_sms import SECRET_ID, SECRET_KEY, FakeTencentSms
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY
from tests.dialogs.harness import Bot, running_bot, start_and_consent

CODE = "482913"
PHONE = "+8613812345678"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTencentSms]:
    server = await FakeTencentSms().start()
    yield server
    await server.stop()


def _config(fake: FakeTencentSms, *, secret_key: str = SECRET_KEY) -> TencentConfig:
    return TencentConfig(
        secret_id=SECRET_ID,
        secret_key=secret_key,
        app_id="1400006666",
        sign_name="LoanBridge",
        template_id="1234567",
        endpoint=fake.url,
    )


async def test_a_code_goes_signed_to_the_number_in_e164_with_the_code_in_the_template(
    fake: FakeTencentSms, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await TencentSms(_config(fake)).send_code(PHONE, CODE)
    (request,) = fake.requests  # the fake answers only a request whose TC3 signature is right
    params = request["params"]
    assert params["PhoneNumberSet"] == [PHONE]
    assert params["TemplateParamSet"] == [CODE, "10"]  # {1} the code, {2} the minutes it is valid
    assert (params["SmsSdkAppId"], params["SignName"], params["TemplateId"]) == (
        "1400006666",
        "LoanBridge",
        "1234567",
    )
    assert request["headers"]["X-TC-Region"] == "ap-guangzhou"
    assert CODE not in caplog.text


@pytest.mark.parametrize(
    "status", ["LimitExceeded.PhoneNumberDailyLimit", "FailedOperation.PhoneNumberInBlacklist"]
)
async def test_a_number_the_provider_refuses_is_not_sent(
    fake: FakeTencentSms, caplog: pytest.LogCaptureFixture, status: str
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.status = status
    with pytest.raises(CodeNotSent, match=re.escape(status)):
        await TencentSms(_config(fake)).send_code(PHONE, CODE)
    assert CODE not in caplog.text


async def test_a_wrong_secret_key_is_refused_by_the_signature_check(fake: FakeTencentSms) -> None:
    with pytest.raises(CodeNotSent, match=r"AuthFailure\.SignatureFailure"):
        await TencentSms(_config(fake, secret_key="not-the-key")).send_code(PHONE, CODE)
    assert fake.requests == []


async def test_a_provider_that_does_not_answer_is_given_up_on_in_time(fake: FakeTencentSms) -> None:
    fake.delay = 3
    started = time.monotonic()
    with pytest.raises(CodeNotSent, match="no answer"):
        await TencentSms(_config(fake), timeout=0.5).send_code(PHONE, CODE)
    assert time.monotonic() - started < 2


@pytest.fixture
async def sms_bot(database_url: str, clock: Any, fake: FakeTencentSms) -> AsyncIterator[Bot]:
    sender = AfterReply(TencentSms(_config(fake)))
    async with running_bot(database_url, clock, code_sender=sender) as running:
        yield running


async def _until(condition: Any, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_borrower_verifies_with_the_code_tencent_delivered(
    sms_bot: Bot, fake: FakeTencentSms, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice = sms_bot.person("alice")
    await start_and_consent(alice)
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, "138 1234 5678"):
        await alice.send(answer)
    await _until(lambda: fake.requests)
    params = fake.requests[0]["params"]
    assert params["PhoneNumberSet"] == [PHONE]
    code = params["TemplateParamSet"][0]
    await alice.send(code)
    assert "you are verified" in alice.texts()
    assert code not in caplog.text  # a real sender never logs the code


async def test_a_refused_sms_is_said_kindly_and_costs_no_attempt(sms_bot: Bot, fake: FakeTencentSms) -> None:
    fake.status = "LimitExceeded.PhoneNumberDailyLimit"
    alice = sms_bot.person("alice")
    await start_and_consent(alice)
    for answer in (DEMO_BORROWER.loan_ref, DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone):
        await alice.send(answer)
    await _until(lambda: any("could not be sent" in m.text for m in alice.received()))
    assert "does not count as a failed attempt" in alice.texts()
    fake.status = "Ok"
    await alice.press("Send a new code")
    await _until(lambda: len(fake.requests) == 2)
    await alice.send(fake.requests[-1]["params"]["TemplateParamSet"][0])
    assert "you are verified" in alice.texts()


def _serve_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("LOANBRIDGE_")}
    return {
        **clean,
        "LOANBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
        "LOANBRIDGE_TELEGRAM_TOKEN": "123:fake",
        "LOANBRIDGE_TELEGRAM_API_URL": "http://127.0.0.1:9",  # never reached: start-up stops first
        **settings,
    }


async def _serve_refuses(tmp_path: Path, **settings: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env=_serve_env(tmp_path, **settings),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    return lines[0]


async def test_serve_refuses_the_log_sender_unless_it_is_chosen(tmp_path: Path) -> None:
    line = await _serve_refuses(tmp_path)
    assert line.startswith("configuration error: LOANBRIDGE_SMS: not set")
    assert "tencent" in line and "log" in line  # says how to configure it


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "LOANBRIDGE_TENCENT_SECRET_ID"),
        ({"LOANBRIDGE_TENCENT_SECRET_ID": SECRET_ID}, "LOANBRIDGE_TENCENT_SECRET_KEY"),
        ({"LOANBRIDGE_SMS_APP_ID": "app"}, "LOANBRIDGE_SMS_APP_ID"),
        ({"LOANBRIDGE_SMS_ENDPOINT": "ftp://sms.example"}, "LOANBRIDGE_SMS_ENDPOINT"),
    ],
)
async def test_serve_names_a_missing_or_bad_tencent_setting(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    line = await _serve_refuses(tmp_path, LOANBRIDGE_SMS="tencent", **settings)
    assert line.startswith(f"configuration error: {named}")
