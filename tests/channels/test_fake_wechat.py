"""The test doubles of WeChat checked against wechatpy (a real implementation of both sides of the protocol):
the fake API server driven by wechatpy's own client accepts the fields wechatpy sends and refuses what WeChat
refuses; the callback poster's signed and encrypted XML is what wechatpy's callback parts verify and parse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from wechatpy import WeChatClient, create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.utils import check_signature

from tests.channels.fake_wechat import APP_ID, APP_SECRET, TEXT_LIMIT, FakeWeChat
from tests.channels.wechat_callbacks import ACCOUNT, AES_KEY, CALLBACK_TOKEN, WeChatServer, from_xml

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"


class LocalClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at the fake (its token URL is absolute, so it is overridden here)."""

    def __init__(self, base: str) -> None:
        super().__init__(APP_ID, APP_SECRET, auto_retry=False)
        self.API_BASE_URL = f"{base}/cgi-bin/"
        self._base = base

    def fetch_access_token(self) -> dict[str, Any]:
        return dict(
            self._fetch_access_token(
                url=f"{self._base}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    server = await FakeWeChat().start()
    yield server
    await server.stop()


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(function, *args, **kwargs)


async def _errcode(function: Any, *args: Any, **kwargs: Any) -> int:
    with pytest.raises(WeChatClientException) as refused:
        await _call(function, *args, **kwargs)
    return int(refused.value.errcode)


async def test_texts_and_menu_messages_reach_a_person_inside_the_window_only(fake: FakeWeChat) -> None:
    client = LocalClient(fake.url)
    assert await _errcode(client.message.send_text, OPENID, "你好") == 45015  # never wrote
    fake.wrote(OPENID)
    await _call(client.message.send_text, OPENID, "你好")
    menu = {"head_content": "选择一项", "list": [{"id": "101", "content": "是"}], "tail_content": ""}
    await _call(client.message.send_msg_menu, OPENID, menu)
    assert fake.texts(OPENID) == ["你好", "选择一项\n是"]
    assert fake.choice(OPENID, "是") == ("101", "是")
    fake.advance(hours=48)
    assert await _errcode(client.message.send_text, OPENID, "迟了") == 42001  # its token ran out too
    client.session.delete(client.access_token_key)
    assert await _errcode(client.message.send_text, OPENID, "迟了") == 45015
    assert fake.texts(OPENID) == ["你好", "选择一项\n是"]  # refusals reached nobody


async def test_the_byte_limit_counts_utf8_bytes_not_characters(fake: FakeWeChat) -> None:
    client = LocalClient(fake.url)
    fake.wrote(OPENID)
    fits = "债" * (TEXT_LIMIT // 3)  # 682 characters, 2,046 bytes
    await _call(client.message.send_text, OPENID, fits)
    assert await _errcode(client.message.send_text, OPENID, fits + "务") == 45002  # 683 characters
    assert fake.oversized() == [fits + "务"]


async def test_tokens_expire_and_are_refused_in_wechats_words(fake: FakeWeChat) -> None:
    client = LocalClient(fake.url)
    fake.wrote(OPENID)
    await _call(client.message.send_text, OPENID, "one")
    fake.expire_tokens()
    assert await _errcode(client.message.send_text, OPENID, "two") == 42001
    client.session.delete(client.access_token_key)  # the client fetches a fresh token
    await _call(client.message.send_text, OPENID, "three")
    fake.invalidate_tokens()
    assert await _errcode(client.message.send_text, OPENID, "four") == 40001
    assert fake.tokens_issued == 2 and fake.texts(OPENID) == ["one", "three"]
    refusal = fake.refused(OPENID)[-1].answer
    assert set(refusal) == {"errcode", "errmsg"} and refusal["errmsg"].startswith("invalid credential")


async def test_a_replaced_token_works_five_minutes_unless_strict(fake: FakeWeChat) -> None:
    first, second = LocalClient(fake.url), LocalClient(fake.url)
    fake.wrote(OPENID)
    await _call(first.message.send_text, OPENID, "a")
    await _call(second.message.send_text, OPENID, "b")  # fetches its own token
    await _call(first.message.send_text, OPENID, "c")  # the old one, within its grace
    fake.advance(minutes=6)
    assert await _errcode(first.message.send_text, OPENID, "d") == 40001
    await _call(second.message.send_text, OPENID, "e")
    fake.strict_tokens = True
    third = LocalClient(fake.url)
    await _call(third.message.send_text, OPENID, "f")
    assert await _errcode(second.message.send_text, OPENID, "g") == 40001
    assert fake.texts(OPENID) == ["a", "b", "c", "e", "f"]


async def test_templates_quotas_and_unsubscribed_people(fake: FakeWeChat) -> None:
    client = LocalClient(fake.url)
    fake.template_ids = {"TPL_OFFER"}
    data = {"first": {"value": "新的还款方案"}, "remark": {"value": "请打开对话查看"}}
    await _call(client.message.send_template, OPENID, "TPL_OFFER", data)  # no window needed
    assert await _errcode(client.message.send_template, OPENID, "TPL_OTHER", data) == 40037
    assert fake.templates(OPENID)[0]["data"] == data
    fake.wrote(OPENID)
    fake.failures[OPENID] += [45047, 45009]
    assert await _errcode(client.message.send_text, OPENID, "x") == 45047
    assert await _errcode(client.message.send_text, OPENID, "y") == 45009
    await _call(client.message.send_text, OPENID, "z")
    fake.unsubscribe(OPENID)
    assert await _errcode(client.message.send_text, OPENID, "gone") == 43004
    assert await _errcode(client.message.send_template, OPENID, "TPL_OFFER", data) == 43004
    fake.response_limit = 1
    fake.wrote(OPENID)  # following again opens the window and restarts the count
    await _call(client.message.send_text, OPENID, "back")
    assert await _errcode(client.message.send_text, OPENID, "more") == 45047


async def test_media_qr_codes_and_the_custom_menu(fake: FakeWeChat) -> None:
    client = LocalClient(fake.url)
    media_id = fake.register_media(b"\xff\xd8\xffletter")
    downloaded = await _call(client.media.download, media_id)
    assert downloaded.content == b"\xff\xd8\xffletter"
    assert await _errcode(client.media.download, "nope") == 40007
    code = await _call(client.qrcode.create, _qr("QR_STR_SCENE", "invite-ABC", 3600))
    assert code["expire_seconds"] == 3600 and fake.scene_of(code["ticket"]) == "invite-ABC"
    permanent = await _call(client.qrcode.create, _qr("QR_LIMIT_STR_SCENE", "lender-1"))
    assert "expire_seconds" not in permanent
    assert await _errcode(client.qrcode.create, _qr("QR_STR_SCENE", "x" * 65)) == 40097
    menu = {"button": [{"type": "click", "name": "我的案件", "key": "MY_CASE"}]}
    await _call(client.menu.create, menu)
    assert fake.menu == menu
    too_long = {"button": [{"type": "click", "name": "一个很长的菜单名字", "key": "K"}]}  # 27 bytes
    assert await _errcode(client.menu.create, too_long) == 40018
    assert await _errcode(client.menu.create, {"button": [{"name": "x", "type": "click"}]}) == 40019


def _qr(action: str, scene: str, seconds: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"action_name": action, "action_info": {"scene": {"scene_str": scene}}}
    if seconds is not None:
        body["expire_seconds"] = seconds
    return body


# The poster that plays WeChat's servers, against a minimal callback built from wechatpy's own parts.


@dataclass
class Received:
    messages: list[Any] = field(default_factory=list)
    raw: list[dict[str, str]] = field(default_factory=list)
    delay: list[float] = field(default_factory=list)  # seconds to wait before answering, per request


@asynccontextmanager
async def wechatpy_callback(aes_key: str | None) -> AsyncIterator[tuple[str, Received]]:
    received = Received()

    async def handle(request: web.Request) -> web.Response:
        query = request.query
        try:
            check_signature(CALLBACK_TOKEN, query["signature"], query["timestamp"], query["nonce"])
        except InvalidSignatureException:
            return web.Response(status=403)
        if request.method == "GET":
            return web.Response(text=query["echostr"])
        body = await request.text()
        crypto = WeChatCrypto(CALLBACK_TOKEN, aes_key, APP_ID) if aes_key else None
        if crypto is not None:
            body = crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
        if received.delay:
            await asyncio.sleep(received.delay.pop(0))
        message = parse_message(body)
        received.messages.append(message)
        received.raw.append(from_xml(body))
        # (wechatpy renders a reply's text into CDATA unescaped: a "]]>" in it would break the XML)
        words = str(getattr(message, "content", message.type)).replace("]]>", "")
        reply = create_reply(f"收到 {words}", message).render()
        if crypto is not None:
            reply = crypto.encrypt_message(reply, query["nonce"], query["timestamp"])
        return web.Response(text=reply, content_type="application/xml")

    app = web.Application()
    app.router.add_route("*", "/wechat", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/wechat", received
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("aes_key", [None, AES_KEY], ids=["plain", "safe"])
async def test_the_poster_speaks_what_wechatpy_parses(fake: FakeWeChat, aes_key: str | None) -> None:
    async with (
        wechatpy_callback(aes_key) as (url, received),
        WeChatServer(url, aes_key=aes_key, fake=fake) as wx,
    ):
        assert await wx.verify("12345") == (200, "12345")
        assert (await wx.verify("12345", signature="0" * 40))[0] == 403
        reply = await wx.text(OPENID, "你好 ]]> <b>")
        assert reply.status == 200 and reply.text == "收到 你好  <b>" and reply.passive
        await wx.image(OPENID, fake.register_media(b"jpg"))
        await wx.subscribe(OPENID, scene="invite-ABC")
        await wx.scan(OPENID, "invite-ABC")
        await wx.click(OPENID, "MY_CASE")
        await wx.text(OPENID, "是", menu_id="101")
        await wx.unsubscribe(OPENID)
    text, image, follow, scan, click, tap, unfollow = received.messages
    assert text.content == "你好 ]]> <b>" and text.source == OPENID and text.target == ACCOUNT and text.id
    assert image.type == "image" and image.media_id.startswith("MEDIA_")
    assert follow.event == "subscribe_scan" and follow.scene_id == "invite-ABC" and follow.ticket
    assert scan.event == "scan" and scan.scene_id == "invite-ABC"
    assert click.event == "click" and click.key == "MY_CASE"
    assert tap.content == "是" and received.raw[5]["bizmsgmenuid"] == "101"
    assert unfollow.event == "unsubscribe"
    assert OPENID in fake.unsubscribed  # the unfollow reached the fake API server too


async def test_the_poster_retries_a_slow_answer_with_the_same_message(fake: FakeWeChat) -> None:
    async with wechatpy_callback(None) as (url, received), WeChatServer(url, wait=0.2) as wx:
        received.delay += [0.5, 0.5]  # the first two attempts answer too late
        reply = await wx.text(OPENID, "慢")
        assert [a.status for a in reply.attempts] == [None, None, 200] and reply.text == "收到 慢"
        assert all(a.elapsed < 0.4 for a in reply.attempts[:2])
        await asyncio.sleep(0.6)  # the abandoned attempts finish on the server's side
        ids = {m.id for m in received.messages}
        assert len(received.messages) == 3 and len(ids) == 1  # one message, three deliveries
