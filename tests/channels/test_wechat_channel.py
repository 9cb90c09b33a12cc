"""The WeChat channel's own parts: splitting within 2,048 bytes, choices shown and pressed, kinds of notice,
the signed callback, passive replies and the customer-service path, the 48-hour window and template
notices, the shared token, over real HTTP against the fake API server (``fake_wechat``) with WeChat's side
of the callback (``wechat_callbacks``). The issue's whole scenarios are in ``test_wechat_flows.py``."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wechatpy.replies import TextReply

from bot.app import App, build_store
from bot.channels.wechat import (
    MAX_BYTES,
    Credentials,
    WeChatChannel,
    _cdata_safe,
    choice_lines,
    notice_kind,
    pressed,
    shown_choices,
    split_bytes,
)
from bot.channels.wechat_api import WeChatApi, WeChatUnavailable
from bot.rendering import RenderedButton, Renderer
from bot.serve import serve
from bot.settings import load_settings
from dialogs.domain import Channel, Role
from dialogs.messages import Outbound
from storage import models
from tests.channels.fake_telegram import TOKEN as TELEGRAM_TOKEN
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.channels.serve_process import free_port
from tests.channels.wechat_callbacks import AES_KEY, CALLBACK_TOKEN, WeChatServer, sign
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY, FakeClock
from tests.dialogs.harness import Codes

ANNA = "oAnna000000000000000000000a1"
OLGA = "oOlga000000000000000000000o2"  # a mediator
TEMPLATES = {"offer": "TPL_OFFER", "default": "TPL_DEFAULT"}

# Splitting


@given(st.text(alphabet=st.sampled_from("ab 你好。\n😀"), max_size=6000), st.integers(40, 2048))
@settings(max_examples=200, deadline=None)
def test_every_piece_fits_the_byte_limit_and_nothing_but_spacing_is_lost(text: str, limit: int) -> None:
    pieces = split_bytes(text, limit)
    assert all(len(piece.encode()) <= limit for piece in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def test_a_long_chinese_text_is_cut_at_a_paragraph_not_inside_a_sentence() -> None:
    paragraph = "我们已经收到您的材料。" * 40  # 1,320 bytes
    pieces = split_bytes(f"{paragraph}\n\n{paragraph}")
    assert pieces == [paragraph, paragraph]
    assert all(len(p.encode()) <= MAX_BYTES for p in pieces)


# Choices


QUESTION = (RenderedButton("3.a", "失业了"), RenderedButton("3.b", "生病了"))
NOTICE = (RenderedButton("0.g:open:1", "查看案件 1"),)


def test_typed_numbers_words_and_taps_press_the_choices_last_shown() -> None:
    state, style = shown_choices(None, QUESTION, {"1111": "3.a", "2222": "3.b"})
    assert style == "numbered" and choice_lines(QUESTION, style) == ["1. 失业了", "2. 生病了"]
    assert pressed(state, "2", None) == "3.b"
    assert pressed(state, "失业了", None) == "3.a"
    assert pressed(state, "2. 生病了", "2222") == "3.b"  # a tap on the menu message
    assert pressed(state, "5", None) is None  # no fifth choice: the text reaches the question
    assert pressed(state, "13812345678", None) is None


def test_a_notice_arriving_while_a_question_waits_gets_letters_and_the_numbers_stay() -> None:
    state, _ = shown_choices({"since_typed": True}, QUESTION, {})
    state, style = shown_choices(state, NOTICE, {"3333": "0.g:open:1"})
    assert style == "lettered" and choice_lines(NOTICE, style) == ["a. 查看案件 1"]
    assert pressed(state, "a", None) == "0.g:open:1"
    assert pressed(state, "1", None) == "3.a"
    assert pressed(state, "x", "3333") == "0.g:open:1"


def test_after_the_person_types_the_next_question_without_choices_clears_them() -> None:
    state, _ = shown_choices(None, QUESTION, {})
    state, _ = shown_choices({**state, "since_typed": True}, (), {})
    assert pressed(state, "1", None) is None


def test_a_notice_that_waited_for_the_person_is_lettered_before_the_answer_to_what_they_wrote() -> None:
    typed = {"since_typed": True, "numbered": [["3.a", "失业了"]]}
    state, style = shown_choices(typed, NOTICE, {}, aside=True)
    assert style == "lettered" and pressed(state, "a", None) == "0.g:open:1"
    state, style = shown_choices(state, QUESTION, {})  # the answer to what they typed: its numbers count
    assert style == "numbered" and pressed(state, "1", None) == "3.a"


@pytest.mark.parametrize("text", ["a]]>b", "]]>", "<xml>&amp;</xml>", "x]]]]>y"])
def test_a_passive_reply_stays_well_formed_xml_whatever_the_text(text: str) -> None:
    xml = TextReply(source="gh_1", target="o1", content=_cdata_safe(text)).render()
    assert ElementTree.fromstring(xml).findtext("Content") == text  # noqa: S314 - our own reply


@pytest.mark.parametrize(
    ("templates", "kind"),
    [
        (("negotiate/new_offer",), "offer"),
        (("review/borrower_approved", "negotiate/bid_proposed"), "offer"),
        (("negotiate/deadline_passed",), "deadline"),
        (("drafts/reminder",), "reminder"),
        (("broadcasts/notice",), "broadcast"),
        (("help/commands",), "default"),
    ],
)
def test_a_message_s_kind_names_its_template_message(templates: tuple[str, ...], kind: str) -> None:
    assert notice_kind(templates) == kind


# Over real HTTP: serve with WeChat, the fake API server, WeChat's side of the callback


@dataclass
class Wx:
    fake: FakeWeChat
    wechat: WeChatServer
    app: App
    clock: FakeClock
    codes: Codes


@pytest.fixture(params=["plain", "safe"])
async def wx(request: pytest.FixtureRequest, database_url: str, clock: FakeClock) -> AsyncIterator[Wx]:
    safe = request.param == "safe"
    fake = await FakeWeChat().start()
    port = free_port()
    config = load_settings(
        database_url=database_url,
        secret_key=TEST_SECRET.decode(),
        signing_key=TEST_SIGNING_KEY,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_token=CALLBACK_TOKEN,
        wechat_aes_key=AES_KEY if safe else None,
        wechat_api_url=fake.url,
        wechat_listen=f"127.0.0.1:{port}",
        wechat_templates=json.dumps(TEMPLATES),
        wechat_reply_budget=4.0,  # generous: a loaded test machine still answers passively
    )
    codes, stop = Codes(), asyncio.Event()
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(config, stop=stop, code_sender=codes, clock=clock, ready=ready))
    try:
        app = await asyncio.wait_for(ready, 15)
        url = f"http://127.0.0.1:{port}/wechat"
        async with WeChatServer(url, aes_key=AES_KEY if safe else None, fake=fake) as wechat:
            yield Wx(fake, wechat, app, clock, codes)
    finally:
        stop.set()
        await asyncio.wait_for(serving, 20)
        await fake.stop()


async def _count(wx: Wx, model: type[models.Base]) -> int:
    async with wx.app.store.unit() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_following_is_answered_passively_with_the_welcome_and_its_choices(wx: Wx) -> None:
    reply = await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    assert reply.status == 200 and reply.text is not None
    assert "1. " in reply.text  # the welcome's choices, numbered
    # ...and the same choices as a menu message to tap
    menus = wx.fake.menus(ANNA)
    assert menus and menus[-1]["list"][0]["content"].startswith("1. ")
    async with wx.app.store.unit() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(models.OutboxMessage)
            .where(models.OutboxMessage.sent_at.is_(None))
        )
    assert sent == 0  # answered, and recorded as sent


async def test_a_retried_message_is_handled_once_and_answered_the_same(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    xml = wx.wechat.text_xml(ANNA, "/help")
    replies = await wx.wechat.redeliver(xml, ANNA)
    await wx.app.delivery.drain()
    assert [r.status for r in replies] == [200, 200, 200]
    assert replies[0].text and all(r.text in (replies[0].text, None) for r in replies)
    assert replies[1].text == replies[0].text
    keys = await _count(wx, models.InboundKey)
    assert keys == 2  # the follow and the /help, once each


async def test_a_forged_or_broken_callback_is_refused_and_changes_nothing(wx: Wx) -> None:
    params, body = wx.wechat.query(wx.wechat.text_xml(ANNA, "你好"), openid=ANNA)
    forged = await wx.wechat.post_raw({**params, "signature": "0" * 40}, body)
    broken_params, _ = wx.wechat.query(None, openid=ANNA)
    if wx.wechat.aes_key:  # signed as WeChat signs, but not something the key decrypts
        garbled = "QUJD" * 8
        signature = sign(CALLBACK_TOKEN, params["timestamp"], params["nonce"], garbled)
        envelope = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{garbled}]]></Encrypt></xml>"
        broken = await wx.wechat.post_raw({**params, "msg_signature": signature}, envelope)
    else:
        broken = await wx.wechat.post_raw(broken_params, "<xml><ToUserName>")
    assert (forged.status, broken.status) == (403, 400)
    assert await _count(wx, models.InboundKey) == 0
    assert await _count(wx, models.Account) == 0
    assert (await wx.wechat.verify("42"))[1] == "42"


async def test_outside_the_window_an_offer_goes_as_a_template_and_waits_for_the_person(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    account = await wx.app.store.ensure_account(Channel.WECHAT, ANNA)
    wx.clock.advance(hours=50)
    wx.fake.advance(hours=50)

    async def offer(dialogs: object, turn: object) -> None:
        turn.send(Outbound(account.id, "help/commands", {"channel_commands": ()}))  # type: ignore[attr-defined]

    await wx.app.engine.run_system(account.id, "test-offer-1", offer)
    await wx.app.delivery.drain()
    templates = wx.fake.templates(ANNA)
    assert [t["template_id"] for t in templates] == ["TPL_DEFAULT"]
    assert not wx.fake.refused(ANNA)  # no customer-service message was tried outside the window
    assert (await wx.app.store.wechat_waiting()).notified == 1
    # The person writes: the waiting message comes with the answer, and nothing waits any more.
    reply = await wx.wechat.text(ANNA, "你好")
    await wx.app.delivery.drain()
    assert reply.status == 200
    assert (await wx.app.store.wechat_waiting()).total == 0
    seen = [reply.text or "", *wx.fake.texts(ANNA)]
    assert any("/help" in text or "/status" in text for text in seen), seen


async def test_an_expired_token_is_refreshed_once_and_the_message_goes(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    issued = wx.fake.tokens_issued
    wx.fake.expire_tokens()
    wx.fake.invalidate_tokens()
    api = WeChatApi(APP_ID, APP_SECRET, wx.app.store, wx.clock, wx.fake.url)
    try:
        await api.send_text(ANNA, "测试")
    finally:
        await api.close()
    tries = [
        c.answer.get("errcode", 0)
        for c in wx.fake.calls
        if c.path == "/cgi-bin/message/custom/send" and (c.body.get("text") or {}).get("content") == "测试"
    ]
    assert tries == [40001, 0]  # refused with the old token, then sent with a new one: once each
    assert wx.fake.tokens_issued > issued
    stored = await wx.app.store.wechat_token(APP_ID)
    assert stored is not None and stored[0] in wx.fake.current_tokens()


async def test_unfollowing_marks_the_account_unreachable_and_following_again_restores_it(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    assert (await wx.wechat.unsubscribe(ANNA)).status == 200
    account = await wx.app.store.ensure_account(Channel.WECHAT, ANNA)
    assert not account.reachable
    await asyncio.sleep(1.05)  # a follow is known by its second: the same second would be a retry
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    assert (await wx.app.store.account(account.id)).reachable


# Going out: proactive messages through the real delivery, against WeChat's refusals


async def _proactive(wx: Wx, outbound_for: Callable[[int], Outbound], key: str) -> int:
    """A message the system sends ``ANNA`` (as the scheduler does): committed, then delivered."""
    account = await wx.app.store.ensure_account(Channel.WECHAT, ANNA)

    async def send(_dialogs: object, turn: Any) -> None:
        turn.send(outbound_for(account.id))

    await wx.app.engine.run_system(account.id, key, send)
    await wx.app.delivery.drain()
    return account.id


def _help(account_id: int) -> Outbound:
    return Outbound(account_id, "help/commands")


async def _outbox(wx: Wx, account_id: int) -> list[models.OutboxMessage]:
    async with wx.app.store.unit() as session:
        box = models.OutboxMessage
        query = select(box).where(box.account_id == account_id).order_by(box.id)
        return list(await session.scalars(query))


async def test_a_document_goes_as_text_parts_within_the_limit_then_its_fingerprint(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    document = "\n\n".join(f"第{n}条：双方同意按月还款，每月十五日前付清。" * 12 for n in range(1, 9))
    before = len(wx.fake.texts(ANNA))

    def export(account_id: int) -> Outbound:
        context = {"document": document}
        return Outbound(account_id, "mydata/export_file", context, file_name="my-data.txt")

    await _proactive(wx, export, "doc-1")
    texts = wx.fake.texts(ANNA)[before:]
    parts = [t for t in texts if t.startswith("【my-data.txt ")]
    assert len(parts) >= 2 and parts[0].startswith(f"【my-data.txt 1/{len(parts)}】")
    assert all(len(t.encode()) <= MAX_BYTES for t in texts)
    joined = "".join("".join(p.split("\n", 1)[1].split()) for p in parts)
    assert joined == "".join(document.split())  # nothing lost between the parts
    fingerprint = hashlib.sha256(document.encode()).hexdigest()
    assert any(fingerprint in t and "/help" in t for t in texts[len(parts) :])


async def test_an_unfollowed_person_makes_the_account_unreachable_not_a_retry_loop(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    wx.fake.unsubscribe(ANNA)  # WeChat knows before our callback hears of it
    account_id = await _proactive(wx, _help, "gone-1")
    assert not (await wx.app.store.account(account_id)).reachable
    (row,) = [r for r in await _outbox(wx, account_id) if r.key.endswith("gone-1:0")]
    assert row.sent_at is None and row.failed and "unreachable" in (row.last_error or "")


async def test_the_day_s_quota_pauses_sending_and_the_message_waits_recorded(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    wx.fake.failures[ANNA].append(45009)
    account_id = await _proactive(wx, _help, "quota-1")
    (row,) = [r for r in await _outbox(wx, account_id) if r.key.endswith("quota-1:0")]
    assert row.sent_at is None and not row.failed and row.last_error == "wechat quota 45009"
    channel = wx.app.delivery.sender(Channel.WECHAT)
    assert channel is not None
    channel._paused_until = 0.0  # type: ignore[attr-defined]  # the pause is over (a minute, in life)
    await wx.app.delivery.resume()  # the minute job's look at the outbox (or the scheduler's own) finds it
    await wx.app.delivery.drain()
    assert sum("/help" in t for t in wx.fake.texts(ANNA)) == 1


async def test_wechat_saying_the_window_closed_takes_the_template_path(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    wx.fake.failures[ANNA].append(45015)  # we think the window is open; WeChat disagrees
    await _proactive(wx, _help, "closed-1")
    assert [t["template_id"] for t in wx.fake.templates(ANNA)] == ["TPL_DEFAULT"]
    assert (await wx.app.store.wechat_waiting()).notified == 1


async def test_without_a_template_for_its_kind_the_message_waits_and_is_counted(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    channel = wx.app.delivery.sender(Channel.WECHAT)
    assert channel is not None
    channel.templates = {}  # type: ignore[attr-defined]
    wx.clock.advance(hours=49)
    wx.fake.advance(hours=49)
    await _proactive(wx, _help, "none-1")
    assert wx.fake.templates(ANNA) == [] and not wx.fake.refused(ANNA)
    count = await wx.app.store.wechat_waiting()
    assert (count.notified, count.not_notified) == (0, 1)
    await wx.app.store.grant_role(Channel.WECHAT, OLGA, Role.OPERATOR)  # a mediator sees it in /stats
    stats = await wx.wechat.text(OLGA, "/stats")
    await wx.app.delivery.drain()
    assert "等对方再次发消息才能送达的消息" in "".join([stats.text or "", *wx.fake.texts(OLGA)])
    assert await wx.app.delivery.resume() == 0  # kept out of delivery's look until Anna writes
    reply = await wx.wechat.text(ANNA, "在吗")
    await wx.app.delivery.drain()
    assert (await wx.app.store.wechat_waiting()).total == 0
    assert any("/help" in t for t in [reply.text or "", *wx.fake.texts(ANNA)])


async def test_a_template_wechat_refuses_leaves_the_message_waiting_not_dropped(wx: Wx) -> None:
    await wx.wechat.subscribe(ANNA)
    await wx.app.delivery.drain()
    wx.fake.template_ids = {"SOME_OTHER_TEMPLATE"}  # ours is not (or no longer) the account's: 40037
    wx.clock.advance(hours=49)
    wx.fake.advance(hours=49)
    account_id = await _proactive(wx, _help, "refused-1")
    assert [c.answer["errcode"] for c in wx.fake.refused(ANNA)] == [40037]
    (row,) = [r for r in await _outbox(wx, account_id) if r.key.endswith("refused-1:0")]
    assert row.sent_at is None and not row.failed
    assert (await wx.app.store.wechat_waiting()).not_notified == 1


async def test_two_processes_share_one_token(wx: Wx) -> None:
    first = WeChatApi(APP_ID, APP_SECRET, wx.app.store, wx.clock, wx.fake.url)
    second = WeChatApi(APP_ID, APP_SECRET, wx.app.store, wx.clock, wx.fake.url)
    wx.fake.strict_tokens = True  # a new token would invalidate the other process's at once
    wx.fake.wrote(ANNA)
    try:
        await first.send_text(ANNA, "一")
        await second.send_text(ANNA, "二")
        wx.clock.advance(seconds=7200 - 300)  # within ten minutes of expiry: refreshed, once
        await second.send_text(ANNA, "三")
        await first.send_text(ANNA, "四")
    finally:
        await first.close()
        await second.close()
    assert wx.fake.texts(ANNA)[-4:] == ["一", "二", "三", "四"]
    assert first.token_fetches + second.token_fetches == 2
    assert not [c for c in wx.fake.calls if c.answer.get("errcode") in (40001, 42001)]


async def test_the_api_client_reaches_only_the_configured_host(clock: FakeClock) -> None:
    """Every call goes to LOANBRIDGE_WECHAT_API_URL: with WeChat's own URL, the loopback guard of the test
    suite refuses the connection, and the error carries neither the URL nor a token."""

    class NoStore:
        async def refresh_wechat_token(self, app_id: str, fetch: Any, **_: Any) -> Any:
            return await fetch(), clock.now() + timedelta(hours=2)

    api = WeChatApi(APP_ID, APP_SECRET, NoStore(), clock)
    assert api.base_url == "https://api.weixin.qq.com"
    try:
        with pytest.raises(WeChatUnavailable) as refused:
            await api.send_text(ANNA, "不会发出")
    finally:
        await api.close()
    assert "weixin" not in str(refused.value) and APP_SECRET not in str(refused.value)


async def test_telegram_and_wechat_run_in_one_process(database_url: str, clock: FakeClock) -> None:
    """Both channels configured: Telegram by long polling and the WeChat callback, one engine and delivery."""
    telegram, fake = await FakeTelegram().start(), await FakeWeChat().start()
    port = free_port()
    config = load_settings(
        database_url=database_url,
        secret_key=TEST_SECRET.decode(),
        signing_key=TEST_SIGNING_KEY,
        telegram_token=TELEGRAM_TOKEN,
        telegram_api_url=telegram.url,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_token=CALLBACK_TOKEN,
        wechat_api_url=fake.url,
        wechat_listen=f"127.0.0.1:{port}",
    )
    stop = asyncio.Event()
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(config, stop=stop, code_sender=Codes(), clock=clock, ready=ready))
    try:
        app = await asyncio.wait_for(ready, 15)
        assert {Channel.TELEGRAM, Channel.WECHAT} <= {c for c in Channel if app.delivery.sender(c)}
        telegram.push(telegram.text_update(4242, "/start"))
        async with WeChatServer(f"http://127.0.0.1:{port}/wechat", fake=fake) as wechat:
            reply = await wechat.subscribe(ANNA)
        for _ in range(100):
            if telegram.texts(4242):
                break
            await asyncio.sleep(0.05)
        assert telegram.texts(4242) and reply.text
        async with app.store.unit() as session:
            channels = set(await session.scalars(select(models.Account.channel)))
        assert channels == {"telegram", "wechat"}
    finally:
        stop.set()
        await asyncio.wait_for(serving, 20)
        await fake.stop()
        await telegram.stop()


# The shared token, in the store


async def test_refreshes_at_once_fetch_one_token(database_url: str, clock: FakeClock) -> None:
    """Callbacks and sends needing a token at the same moment fetch one; on PostgreSQL two processes (two
    stores) do too, by the row's lock. A rejected token is replaced even before it expires."""
    config = load_settings(
        database_url=database_url, secret_key=TEST_SECRET.decode(), signing_key=TEST_SIGNING_KEY
    )
    stores = [build_store(config, clock) for _ in range(2 if database_url.startswith("postgres") else 1)]
    fetched: list[str] = []

    async def fetch() -> tuple[str, int]:
        await asyncio.sleep(0.05)  # WeChat takes a moment: the others must wait, not fetch too
        fetched.append(f"token-{len(fetched)}")
        return fetched[-1], 7200

    valid_until = clock.now() + timedelta(minutes=10)
    try:
        got = await asyncio.gather(
            *(
                stores[n % len(stores)].refresh_wechat_token(APP_ID, fetch, valid_until=valid_until)
                for n in range(6)
            )
        )
        assert fetched == ["token-0"] and {token for token, _ in got} == {"token-0"}
        token, _ = await stores[-1].refresh_wechat_token(
            APP_ID, fetch, valid_until=valid_until, rejected="token-0"
        )
        assert token == "token-1"
        stored = await stores[0].wechat_token(APP_ID)
        assert stored is not None and stored[0] == "token-1"
    finally:
        for store in stores:
            await store.close()


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(8))
    + "]><xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&i;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh'
    "</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    "<Content>&x;</Content><MsgId>2</MsgId></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<xml><ToUserName>gh</ToUserName>",
        b"\xff\xfe<\x00x\x00m\x00l\x00>",
        b"<xml><FromUserName>oX</FromUserName></xml>",  # no MsgType
        b"not xml at all",
        LAUGHS.encode(),
        EXTERNAL.encode(),
    ],
    ids=["empty", "truncated", "not-utf8", "no-type", "text", "entity-bomb", "external-entity"],
)
async def test_signed_bodies_that_are_not_messages_are_refused_and_the_server_stays_up(
    wx: Wx, body: bytes
) -> None:
    if wx.wechat.aes_key:  # the same bodies, encrypted and signed as WeChat would
        params, posted = wx.wechat.query(body.decode("utf-8", "replace"), openid=ANNA)
    else:
        params, posted = wx.wechat.query(None, openid=ANNA)[0], body.decode("latin-1")
    answer = await wx.wechat.post_raw(params, posted if wx.wechat.aes_key else body)
    assert answer.status == 400, answer
    assert "passwd" not in answer.body and "root:" not in answer.body
    assert await _count(wx, models.InboundKey) == 0
    reply = await wx.wechat.subscribe(ANNA)  # and the next message is handled as usual
    assert reply.status == 200 and reply.text


def test_a_reply_to_another_process_s_callback_is_left_to_it_then_taken_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = WeChatChannel(Credentials(APP_ID, CALLBACK_TOKEN), Any, Any, Renderer())  # type: ignore[arg-type]
    now = [1000.0]
    monkeypatch.setattr("bot.channels.wechat.time.monotonic", lambda: now[0])
    assert channel._anothers(["wechat:msg:42:0", "wechat:msg:42:1"])  # another process's callback
    now[0] += 29
    assert channel._anothers(["wechat:msg:42:1"])
    now[0] += 2  # still unsent 30 s on: that process stopped, this one sends it
    assert not channel._anothers(["wechat:msg:42:0"])
    channel._remember("msg:43")  # a callback this process took: its replies are its own
    assert not channel._anothers(["wechat:msg:43:0"])
    assert not channel._anothers(["system:reminder-7:0", "negotiate:offer:9"])  # notifications: anyone's
