"""WeChat from the command line: settings that stop start-up in one line, the custom menu, invites as QR
codes and the count of messages waiting, against the fake WeChat API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.serve import wechat_settings
from bot.settings import SettingsError, load_settings
from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.channels.wechat_callbacks import AES_KEY

WECHAT = ("APP_ID", "APP_SECRET", "TOKEN", "AES_KEY", "LISTEN", "API_URL", "TEMPLATES")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SECRET_KEY", "TELEGRAM_TOKEN", "SMS", *(f"WECHAT_{n}" for n in WECHAT)):
        monkeypatch.delenv(f"LOANBRIDGE_{name}", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"APP_ID": APP_ID}, "LOANBRIDGE_WECHAT_APP_SECRET: required"),
        ({"APP_ID": APP_ID, "APP_SECRET": APP_SECRET}, "LOANBRIDGE_WECHAT_TOKEN: required"),
        ({"TOKEN": "t", "APP_SECRET": APP_SECRET}, "LOANBRIDGE_WECHAT_APP_ID: required"),
        ({"APP_ID": APP_ID, "APP_SECRET": APP_SECRET, "TOKEN": "t"}, "LOANBRIDGE_WECHAT_LISTEN: required"),
        ({"AES_KEY": "too-short"}, "LOANBRIDGE_WECHAT_AES_KEY: expected the 43-character"),
        ({"TEMPLATES": '{"offers": "X"}'}, "LOANBRIDGE_WECHAT_TEMPLATES: unknown kind 'offers'"),
        ({"TEMPLATES": "offer = "}, "LOANBRIDGE_WECHAT_TEMPLATES: expected a JSON object or TOML table"),
        ({"API_URL": "api.weixin.qq.com"}, "LOANBRIDGE_WECHAT_API_URL: expected an http(s) URL"),
    ],
)
def test_incomplete_or_bad_wechat_settings_stop_serve_in_one_line(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: dict[str, str],
    named: str,
) -> None:
    monkeypatch.setenv("LOANBRIDGE_SMS", "log")
    for name, value in given.items():
        monkeypatch.setenv(f"LOANBRIDGE_WECHAT_{name}", value)
    code, out, err = run(capsys, "serve")
    assert (code, out) == (2, "")
    errors = [line for line in err.splitlines() if not line.startswith("WARNING loanbridge.sms")]
    assert errors == [f"configuration error: {errors[0].partition(': ')[2]}"] and named in errors[0]
    assert "Traceback" not in err
    assert not (workdir / "loanbridge.db").exists()  # stopped before touching anything


def test_wechat_alone_is_a_channel_and_no_channel_at_all_is_named(workdir: Path) -> None:
    alone = load_settings(
        wechat_app_id=APP_ID, wechat_app_secret=APP_SECRET, wechat_token="t", wechat_listen="127.0.0.1:8081"
    )
    config = wechat_settings(alone)
    assert config is not None and (config.host, config.port, config.aes_key) == ("127.0.0.1", 8081, None)
    safe = wechat_settings(
        alone.model_copy(update={"wechat_aes_key": load_settings(wechat_aes_key=AES_KEY).wechat_aes_key})
    )
    assert safe is not None and safe.aes_key == AES_KEY
    assert wechat_settings(load_settings()) is None


def test_templates_read_as_toml_or_json() -> None:
    toml = load_settings(wechat_templates='offer = "T1"\ndefault = "T9"\n').wechat_template_ids
    json_ = load_settings(wechat_templates='{"offer": "T1", "default": "T9"}').wechat_template_ids
    assert toml == json_ == {"offer": "T1", "default": "T9"}
    with pytest.raises(SettingsError, match="non-empty"):
        load_settings(wechat_templates='{"offer": ""}')


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command line in a thread of its own (it runs its own event loop) while the fake serves here."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
async def fake(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> FakeWeChat:
    server = await FakeWeChat().start()
    monkeypatch.setenv("LOANBRIDGE_WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("LOANBRIDGE_WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("LOANBRIDGE_WECHAT_API_URL", server.url)
    try:
        yield server  # type: ignore[misc]
    finally:
        await server.stop()


async def test_the_menu_is_published_in_chinese_with_the_keys_the_callback_knows(
    fake: FakeWeChat, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await _cli(capsys, "db", "upgrade"))[0] == 0
    code, out, _ = await _cli(capsys, "wechat", "menu")
    assert code == 0 and "我的案件" in out
    assert fake.menu is not None
    top = fake.menu["button"]
    assert [b["name"] for b in top] == ["我的案件", "法律帮助", "找调解员"]
    keys = [s["key"] for s in top[0]["sub_button"]] + [b["key"] for b in top[1:]]
    assert keys == ["status", "case", "legal", "person"]
    code, out, _ = await _cli(capsys, "wechat", "menu", "--locale", "en")
    assert code == 0 and fake.menu["button"][2]["name"] == "Talk to a person"
    assert all(c.path != "/cgi-bin/token" or c.ok for c in fake.calls)
    assert fake.tokens_issued == 1  # the second command read the token the first one stored


async def test_an_invite_becomes_a_qr_code_whose_scene_is_the_code(
    fake: FakeWeChat, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await _cli(capsys, "db", "upgrade"))[0] == 0
    assert (await _cli(capsys, "lender", "add", "Quick Cash Ltd"))[0] == 0
    code, out, _ = await _cli(capsys, "wechat", "invite", "Quick Cash Ltd", "--hours", "48")
    assert code == 0, out
    invite = re.search(r"invite for 'Quick Cash Ltd': (\S+)", out)
    ticket = re.search(r"showqrcode\?ticket=(\S+)", out)
    assert invite and ticket
    (made,) = fake.qrcodes.values()
    assert made.scene == invite.group(1) and made.action == "QR_STR_SCENE"
    assert made.expires_at is not None and 47 * 3600 < made.expires_at - fake.now() <= 48 * 3600


async def test_the_waiting_count_is_listed(fake: FakeWeChat, capsys: pytest.CaptureFixture[str]) -> None:
    assert (await _cli(capsys, "db", "upgrade"))[0] == 0
    code, out, _ = await _cli(capsys, "wechat", "waiting")
    assert code == 0 and out.startswith("0 WeChat messages wait")
