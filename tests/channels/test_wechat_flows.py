"""The WeChat Official Account channel end to end over real HTTP, through ``loanbridge serve``'s own code
path: signed (in safe mode encrypted) XML is posted to the callback as WeChat's servers post it
(``wechat_callbacks``), the replies come back passively or through the customer-service API of a WeChat API
server on 127.0.0.1 (``fake_wechat``) that enforces the 48-hour window and the 2,048-byte limit; updates go
through the real engine, store (SQLite file and PostgreSQL) and templates."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sys
from argparse import Namespace
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import ParseError

import aiohttp
import pytest
from sqlalchemy import func, select

from bot import wechat_cli
from bot.app import App
from bot.demo import DEMO_BORROWER, seed
from bot.serve import serve
from bot.settings import Settings, load_settings
from dialogs.dispatch import Dialogs
from dialogs.domain import Channel, Role
from dialogs.messages import Inbound
from storage import models
from tests.channels.fake_wechat import APP_ID, APP_SECRET, TEXT_LIMIT, FakeWeChat
from tests.channels.serve_process import free_port
from tests.channels.wechat_callbacks import (
    AES_KEY,
    CALLBACK_TOKEN,
    Reply,
    WeChatServer,
    from_xml,
    numbered,
    sign,
)
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY, FakeClock
from tests.dialogs.harness import FIGURES, Codes

WANG = "oWang0000000000000000000001"  # the borrower
OLGA = "oOlga0000000000000000000002"  # a mediator (operator)
LEO = "oLeo00000000000000000000003"  # lender staff, joins by scanning the invite QR code
TEMPLATES = {"offer": "TPL_OFFER_0001", "deadline": "TPL_DEADLINE_01", "reminder": "TPL_REMINDER_1"}
CHECKOUT = str(Path(__file__).resolve().parents[2])
BUDGET = 3.0  # seconds a turn may take and still be answered passively (as serve's default)


@dataclass
class Wx:
    """One running ``serve`` with WeChat, the API server it talks to, and WeChat's side of the callback."""

    fake: FakeWeChat
    wechat: WeChatServer
    app: App
    codes: Codes
    clock: FakeClock
    settings: Settings
    safe: bool
    # what each person has in front of them: their latest turn's answers (the passive reply first, then
    # customer-service messages) and whatever others' actions sent them since
    seen: dict[str, list[str]] = field(default_factory=dict)
    typists: set[str] = field(default_factory=set)  # people who type a choice's number instead of tapping
    taps: int = 0
    _sent: dict[str, int] = field(default_factory=dict)

    async def turn(self, openid: str, posting: Awaitable[Reply]) -> list[str]:
        """Post one thing the person did; what they saw in answer (passive reply first)."""
        self.look(openid)
        reply = await posting
        assert reply.status == 200, f"the callback answered {reply.status}: {reply.raw[:300]}"
        await self.app.delivery.drain()
        texts = [reply.text] if reply.text else []
        texts += self.news(openid)
        self.seen[openid] = texts
        return texts

    def news(self, openid: str) -> list[str]:
        """Customer-service messages that reached ``openid`` since last looked."""
        before = self._sent.get(openid, 0)
        sent = self.fake.texts(openid)
        self._sent[openid] = len(sent)
        return sent[before:]

    def look(self, openid: str) -> list[str]:
        """What reached ``openid`` because of others (added to what they have in front of them)."""
        news = self.news(openid)
        self.seen[openid] = [*self.seen.get(openid, []), *news]
        return news

    async def say(self, openid: str, text: str) -> list[str]:
        return await self.turn(openid, self.wechat.text(openid, text))

    async def choose(self, openid: str, label: str) -> list[str]:
        """Take the latest choice whose words contain ``label``, as a person does: tap it in the menu message
        that offered it (any earlier one too, as WeChat allows), or, for people who type (``typists``) or
        where no menu message offered it, type its number from the numbered lines in front of them."""
        self.look(openid)
        number = numbered(self.seen[openid], label)
        menus = [item for menu in self.fake.menus(openid) for item in menu["list"]]
        tappable = any(label in str(item.get("content")) for item in menus)
        if tappable and (openid not in self.typists or number is None):
            self.taps += 1
            return await self.turn(openid, self.wechat.tap(openid, label))
        assert number is not None, f"no choice {label!r} in what {openid} has seen: {self.seen[openid]}"
        return await self.say(openid, number)

    async def arriving(self, openid: str, words: str, within: float) -> list[str]:
        """Wait (at most ``within`` seconds) until a customer-service message with ``words`` reaches
        ``openid`` (a turn still under way delivers its replies when it commits); all that arrived."""
        arrived: list[str] = []
        deadline = asyncio.get_running_loop().time() + within
        while not any(words in text for text in arrived):
            assert asyncio.get_running_loop().time() < deadline, (
                f"{words!r} never reached {openid}: {arrived}"
            )
            await asyncio.sleep(0.05)
            await self.app.delivery.drain()
            arrived += self.news(openid)
        self.seen[openid] = arrived
        return arrived

    def everything(self) -> list[str]:
        """Every text sent to anyone: passive replies and what reached the API server (sent or refused)."""
        return self.wechat.replies() + self.fake.contents()


def wechat_settings(database_url: str, fake: FakeWeChat, port: int, *, safe: bool) -> Settings:
    return load_settings(
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
        wechat_reply_budget=BUDGET,
        wechat_rate=1000,  # pacing has tests of its own; here it would only slow the conversations down
        wechat_user_rate=1000,
    )


@asynccontextmanager
async def serving(settings: Settings, codes: Codes, clock: FakeClock) -> AsyncIterator[App]:
    """``serve`` (WeChat only) running in this event loop until the block ends."""
    stop = asyncio.Event()
    ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()
    served = asyncio.create_task(serve(settings, stop=stop, code_sender=codes, clock=clock, ready=ready))
    try:
        await asyncio.wait({ready, served}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if served.done():
            served.result()  # serve stopped at start-up: its error fails the test
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(served, 20)


@pytest.fixture(params=["plain", "safe"])
async def wx(request: pytest.FixtureRequest, database_url: str, clock: FakeClock) -> AsyncIterator[Wx]:
    safe = request.param == "safe"
    fake = await FakeWeChat(template_ids=set(TEMPLATES.values())).start()
    port = free_port()
    settings = wechat_settings(database_url, fake, port, safe=safe)
    codes = Codes()
    try:
        async with serving(settings, codes, clock) as app:
            await seed(app.store)
            url = f"http://127.0.0.1:{port}/wechat"
            async with WeChatServer(url, aes_key=AES_KEY if safe else None, fake=fake) as wechat:
                wx = Wx(fake, wechat, app, codes, clock, settings, safe)
                yield wx
                assert_within_limits(wx)  # every test: nothing anyone was sent is above 2,048 bytes
    finally:
        await fake.stop()


# The borrower flow in Chinese as steps: ("follow", None): following the account (the first thing anyone
# does: WeChat lets only followers write), ("say", text), ("choose", label), ("code", None).
TO_EVIDENCE = [
    ("follow", None),
    ("choose", "开始吧"),
    ("choose", "我同意"),
    ("say", DEMO_BORROWER.loan_ref),
    ("say", DEMO_BORROWER.name),
    ("say", DEMO_BORROWER.id_number),
    ("say", DEMO_BORROWER.phone),
    ("code", None),
    ("choose", "失业"),
    ("choose", "会过去的"),
    ("say", "十月份失业了，正在找工作。"),
]
TO_SUBMIT = [
    *TO_EVIDENCE,
    ("choose", "跳过"),
    *(("say", amount) for amount in FIGURES),
    ("choose", "是的"),
    ("choose", "停息挂账"),
]


async def walk(wx: Wx, steps: list[tuple[str, str | None]], openid: str = WANG) -> None:
    for kind, value in steps:
        if kind == "follow":
            await wx.turn(openid, wx.wechat.subscribe(openid))
        elif kind == "choose":
            await wx.choose(openid, str(value))
        else:
            await wx.say(openid, wx.codes.last if kind == "code" else str(value))


async def submitted(wx: Wx, openid: str = WANG) -> None:
    await walk(wx, TO_SUBMIT, openid)
    answer = await wx.choose(openid, "提交")
    assert any("已提交。您的申请编号是 1。" in t for t in answer), answer


def assert_within_limits(wx: Wx) -> None:
    """Nothing anyone was sent (or the product tried to send) is above WeChat's 2,048 bytes."""
    over = [t[:80] for t in wx.everything() if len(t.encode()) > TEXT_LIMIT]
    assert not over, over
    assert not [c.answer for c in wx.fake.refused() if c.answer.get("errcode") == 45002]


async def stored(wx: Wx) -> dict[str, int]:
    """How many rows the tables a handled message writes to hold."""
    tables = (
        models.InboundKey,
        models.Account,
        models.OutboxMessage,
        models.WeChatFollower,
        models.CaseEvent,
    )
    async with wx.app.store.unit() as session:
        return {
            table.__tablename__: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in tables
        }


# The callback's gate


async def test_the_callback_echoes_a_signed_verification_and_refuses_a_forged_one(wx: Wx) -> None:
    assert await wx.wechat.verify("8130479245871") == (200, "8130479245871")
    status, body = await wx.wechat.verify("8130479245871", signature="0" * 40)
    assert status == 403 and "8130479245871" not in body


async def test_a_bad_signature_and_broken_xml_are_refused_and_nothing_is_stored(wx: Wx) -> None:
    before = await stored(wx)
    xml = wx.wechat.text_xml(WANG, "你好")
    params, body = wx.wechat.query(xml, openid=WANG)
    forged = await wx.wechat.post_raw({**params, "signature": "f" * 40}, body)
    assert forged.status == 403
    if wx.safe:
        wrong = await wx.wechat.post_raw({**params, "msg_signature": "e" * 40}, body)
        assert wrong.status == 403
        undecryptable = body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA")
        assert (await wx.wechat.post_raw(*_signed(wx, undecryptable))).status == 400
    broken = await wx.wechat.post_raw(*_signed(wx, "<xml><ToUserName><![CDATA[gh_x]]></ToUser"))
    assert broken.status == 400
    assert (await wx.wechat.post_raw(*_signed(wx, "not xml at all"))).status == 400
    assert (await wx.wechat.post_raw(*_signed(wx, ""))).status == 400
    await wx.app.delivery.drain()
    assert await stored(wx) == before  # nothing handled, nothing stored
    assert wx.fake.calls == []  # and nothing sent
    answer = await wx.say(WANG, "你好")  # and the server is still up
    assert answer and "本服务完全免费" in "".join(answer)


def _signed(wx: Wx, body: str) -> tuple[dict[str, str], str]:
    """``body`` as posted, signed correctly (in safe mode as the envelope's msg_signature would be)."""
    params, _ = wx.wechat.query(None, openid=WANG)
    if wx.safe:
        params["encrypt_type"] = "aes"
        try:
            encrypted = from_xml(body).get("Encrypt", "")
        except ParseError:  # broken XML has no Encrypt: sign what there is
            encrypted = ""
        params["msg_signature"] = sign(CALLBACK_TOKEN, params["timestamp"], params["nonce"], encrypted)
    return params, body


# The borrower


@pytest.mark.parametrize("how", ["typing numbers", "tapping menus"])
async def test_a_borrower_applies_in_chinese_on_wechat(wx: Wx, how: str) -> None:
    if how == "typing numbers":
        wx.typists.add(WANG)
    await submitted(wx)
    choices = sum(kind == "choose" for kind, _ in TO_SUBMIT) + 1
    assert wx.taps == (0 if how == "typing numbers" else choices)
    account = await wx.app.store.ensure_account(Channel.WECHAT, WANG)
    (case,) = await wx.app.store.cases_of(account.id)
    assert case.state.value == "submitted"
    finances = await wx.app.store.finances(case.id)
    assert finances is not None and str(finances.net_monthly_income) == "6500.00"
    assert_within_limits(wx)
    passive = sum(1 for r in wx.wechat.posted if r.passive)
    assert passive >= len(wx.wechat.posted) * 0.9  # quick turns are answered in the HTTP response


async def test_each_message_retried_three_times_is_handled_once(wx: Wx) -> None:
    await walk(wx, TO_EVIDENCE[:1])
    before = await stored(wx)
    number = numbered(wx.seen[WANG], "开始吧")
    assert number is not None
    xml = wx.wechat.text_xml(WANG, number)
    first, *again = await wx.wechat.redeliver(xml, WANG, times=3)
    await wx.app.delivery.drain()
    assert first.text and "明确同意" in first.text
    for reply in again:  # the same passive reply, or "success" (nothing more for the person)
        assert reply.status == 200 and reply.text in (None, first.text)
    news = wx.news(WANG)
    assert not any("明确同意" in t for t in news), news  # not answered again through the API either
    after = await stored(wx)
    assert after["inbound_keys"] == before["inbound_keys"] + 1  # one message, handled once
    wx.seen[WANG] = [first.text, *news]
    await wx.choose(WANG, "我同意")  # the conversation moved one step, not three
    assert any("编号" in t for t in wx.seen[WANG]), wx.seen[WANG]


async def test_an_event_retried_three_times_is_handled_once(wx: Wx) -> None:
    await walk(wx, TO_EVIDENCE[:3])  # at the loan reference question
    before = await stored(wx)
    click = wx.wechat.event_xml(WANG, "CLICK", key="status")
    answers = await wx.wechat.redeliver(click, WANG, times=3)
    await wx.app.delivery.drain()
    shown = [r.text for r in answers if r.text] + wx.news(WANG)
    assert answers[0].text, "the first delivery is answered"
    assert all(r.text in (None, answers[0].text) for r in answers[1:])
    assert len([t for t in shown if t != answers[0].text]) <= 1  # at most the menu message after it
    after = await stored(wx)
    assert after["inbound_keys"] == before["inbound_keys"] + 1


async def test_an_evidence_image_is_fetched_by_media_id_and_hashed(wx: Wx) -> None:
    await walk(wx, TO_EVIDENCE)
    picture = b"\xff\xd8\xff" + "解除劳动合同通知书".encode() * 200
    await wx.turn(WANG, wx.wechat.image(WANG, wx.fake.register_media(picture)))
    account = await wx.app.store.ensure_account(Channel.WECHAT, WANG)
    (case,) = await wx.app.store.cases_of(account.id)
    async with wx.app.store.unit() as session:
        hashes = list(
            await session.scalars(
                select(models.EvidenceFile.sha256).where(models.EvidenceFile.case_id == case.id)
            )
        )
    assert hashes == [hashlib.sha256(picture).hexdigest()]
    assert any(c.path == "/cgi-bin/media/get" for c in wx.fake.calls)


async def test_an_image_wechat_no_longer_has_is_asked_for_again_and_nothing_is_stored(wx: Wx) -> None:
    await walk(wx, TO_EVIDENCE)
    media_id = wx.fake.register_media(b"\xff\xd8\xffgone")
    del wx.fake.media[media_id]  # WeChat keeps media for three days: this one is gone (40007)
    answer = await wx.turn(WANG, wx.wechat.image(WANG, media_id))
    assert any("我无法读取这个文件。请重新发送" in t for t in answer), answer
    assert [c.answer["errcode"] for c in wx.fake.calls if c.path == "/cgi-bin/media/get"] == [40007]
    async with wx.app.store.unit() as session:
        assert not list(await session.scalars(select(models.EvidenceFile.id)))


async def test_something_the_bot_cannot_read_is_answered_kindly(wx: Wx) -> None:
    await walk(wx, TO_EVIDENCE[:1])
    voice = wx.wechat.other_xml(WANG, "voice", MediaId="MEDIA_voice", Format="amr")
    answer = await wx.turn(WANG, wx.wechat.post(voice, WANG))
    assert answer and all(t.strip() for t in answer)  # words, not silence or an error
    location = wx.wechat.other_xml(
        WANG, "location", Location_X="39.9", Location_Y="116.3", Scale=15, Label="x"
    )
    assert await wx.turn(WANG, wx.wechat.post(location, WANG))


async def test_words_that_look_like_xml_are_shown_as_written_in_a_well_formed_reply(wx: Wx) -> None:
    """What a person writes is shown to others in passive replies: a "]]>" in it must not end the reply's
    CDATA early (WeChat would show "该公众号暂时无法提供服务"); WeChatServer parses every reply strictly."""
    story = "催收员发短信说<b>不还就上门</b> ]]> & 还说要告诉我单位。"
    steps = [(kind, story if value == TO_EVIDENCE[-1][1] else value) for kind, value in TO_SUBMIT]
    await operator_on_wechat(wx)
    await walk(wx, steps)
    await wx.choose(WANG, "提交")
    await wx.say(OLGA, "/queue")
    brief = await wx.choose(OLGA, "#1")
    assert wx.wechat.posted[-1].passive  # the brief came in the HTTP answer itself
    assert any(story in text for text in brief), brief


# Slow turns, the window, tokens


async def test_a_slow_turn_is_answered_success_and_delivered_by_customer_service(
    wx: Wx, monkeypatch: pytest.MonkeyPatch
) -> None:
    await walk(wx, TO_EVIDENCE[:1])
    slow_down(monkeypatch, WANG, BUDGET + 0.5)
    reply = await wx.wechat.text(WANG, "开始吧")
    assert reply.status == 200 and reply.raw.strip() in ("success", "") and not reply.passive
    assert reply.elapsed < 5  # inside WeChat's window: it does not retry
    assert len(reply.attempts) == 1
    delivered = await wx.arriving(WANG, "明确同意", within=5)
    await asyncio.sleep(0.3)
    await wx.app.delivery.drain()
    delivered += wx.news(WANG)
    assert sum("明确同意" in t for t in delivered) == 1  # once: not passively and again by the API


async def test_a_slow_answer_refused_for_the_count_limit_waits_and_arrives_when_they_write(
    wx: Wx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow turn's answer goes by customer-service message, and WeChat refuses it: too many since the
    person last wrote (45047). Nothing is dropped: it waits, operators see it counted in /stats, and it
    arrives with the answer to the person's next message."""
    await operator_on_wechat(wx)
    await walk(wx, TO_EVIDENCE[:1])
    wx.fake.failures[WANG] += [45047] * 3
    slow_down(monkeypatch, WANG, BUDGET + 0.5)
    number = numbered(wx.seen[WANG], "开始吧")
    reply = await wx.wechat.text(WANG, str(number))
    assert reply.raw.strip() in ("success", "")
    deadline = asyncio.get_running_loop().time() + 10
    while (await wx.app.store.wechat_waiting()).total == 0:
        assert asyncio.get_running_loop().time() < deadline, "the refused answer was not kept waiting"
        await asyncio.sleep(0.1)
    assert not any("明确同意" in t for t in wx.news(WANG))
    assert any(c.answer.get("errcode") == 45047 for c in wx.fake.refused(WANG))
    stats = await wx.say(OLGA, "/stats")
    assert any(re.search(r"等对方再次发消息才能送达的消息[^\n]*：1$", t, re.MULTILINE) for t in stats), stats
    wx.fake.failures[WANG].clear()
    later = await wx.say(WANG, "你好")
    assert any("明确同意" in t for t in later), later
    assert (await wx.app.store.wechat_waiting()).total == 0


async def test_an_answer_lost_on_the_way_and_the_message_posted_again_is_read_once(
    wx: Wx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeChat never got the first answer (the connection dropped while the turn ran) and posts the message
    again: the turn runs once, and the person reads its answer once (in the second answer, or through the
    customer-service API when that answer is "success")."""
    await walk(wx, TO_EVIDENCE[:1])
    before = await stored(wx)
    slow_down(monkeypatch, WANG, 0.5)
    number = numbered(wx.seen[WANG], "开始吧")
    assert number is not None
    xml = wx.wechat.text_xml(WANG, number)
    wx.wechat.wait, wx.wechat.attempts = 0.05, 1  # gone before any answer
    lost = await wx.wechat.post(xml, WANG)
    wx.wechat.wait, wx.wechat.attempts = 5.0, 3
    assert lost.status is None
    again = await wx.wechat.post(xml, WANG)
    assert again.status == 200
    await asyncio.sleep(0.5)  # a sender that found the first connection gone sends another way
    await wx.app.delivery.drain()
    read = ([again.text] if again.text else []) + wx.news(WANG)
    assert sum("明确同意" in t for t in read) == 1, read
    assert (await stored(wx))["inbound_keys"] == before["inbound_keys"] + 1


def slow_down(monkeypatch: pytest.MonkeyPatch, openid: str, seconds: float) -> None:
    """Make the next turn of ``openid`` take ``seconds`` longer (as a slow flow step or database would),
    inside its transaction."""
    handle = Dialogs.handle
    pending = [seconds]

    async def slowly(self: Dialogs, turn: Any, inbound: Inbound) -> None:
        if inbound.user_id == openid and pending:
            await asyncio.sleep(pending.pop())
        await handle(self, turn, inbound)

    monkeypatch.setattr(Dialogs, "handle", slowly)


async def test_an_expired_token_is_refreshed_once_during_a_conversation(wx: Wx) -> None:
    await walk(wx, TO_EVIDENCE[:1])  # the welcome's menu message went out with a token
    issued = wx.fake.tokens_issued
    wx.fake.expire_tokens()
    calls = len(wx.fake.calls)
    await wx.choose(WANG, "开始吧")  # the consent question, and its menu message to tap
    later = wx.fake.calls[calls:]
    expired = [c for c in later if c.answer.get("errcode") == 42001]
    sent = [c for c in later if c.path == "/cgi-bin/message/custom/send" and c.ok]
    assert len(expired) == 1 and wx.fake.tokens_issued == issued + 1  # refreshed once
    assert sent and sent[-1].at > expired[0].at  # and the message went with the new token
    assert any("我同意" in t for t in wx.fake.texts(WANG)[-1:])
    await wx.choose(WANG, "我同意")  # and the conversation goes on
    assert wx.fake.tokens_issued == issued + 1


# Three people on WeChat


async def operator_on_wechat(wx: Wx, openid: str = OLGA) -> None:
    await wx.turn(openid, wx.wechat.subscribe(openid))  # the account exists, in Chinese
    await wx.app.store.grant_role(Channel.WECHAT, openid, Role.OPERATOR)
    await wx.say(openid, "/menu")


async def invite_by_qr_code(wx: Wx, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """``loanbridge wechat invite "Demo Lender"``: (scene, ticket) of the QR code it printed."""
    capsys.readouterr()
    assert await wechat_cli.invite(Namespace(name="Demo Lender", hours=72), wx.settings) == 0
    printed = capsys.readouterr().out
    (qr,) = [c for c in wx.fake.calls if c.path == "/cgi-bin/qrcode/create"]
    assert qr.ok and qr.body["action_name"] == "QR_STR_SCENE" and qr.body["expire_seconds"] == 72 * 3600
    ticket = str(qr.answer["ticket"])
    assert quote(ticket) in printed, printed
    return wx.fake.scene_of(ticket), ticket


async def test_lender_staff_join_by_scanning_the_invite_and_an_offer_after_fifty_hours_is_a_template(
    wx: Wx, capsys: pytest.CaptureFixture[str]
) -> None:
    await operator_on_wechat(wx)
    await submitted(wx)
    scene, ticket = await invite_by_qr_code(wx, capsys)
    joined = await wx.turn(LEO, wx.wechat.subscribe(LEO, scene=scene, ticket=ticket))
    assert any("此账号现在代表 Demo Lender" in t for t in joined), joined
    await wx.say(OLGA, "/queue")
    await wx.choose(OLGA, "#1")
    await wx.choose(OLGA, "批准")
    assert any("新申请，案件 #1" in t for t in wx.look(LEO)), wx.seen[LEO]
    assert any("调解员已审核申请 1" in t for t in wx.look(WANG)), wx.seen[WANG]

    wx.clock.advance(hours=50)  # the borrower has not written for 50 hours: outside WeChat's window
    wx.fake.advance(hours=50)
    await wx.choose(LEO, "查看并答复")
    await wx.choose(LEO, "还价")
    await wx.choose(LEO, "延长期限，等额本息")
    await wx.choose(LEO, "期数和月供")
    await wx.say(LEO, "12")
    await wx.say(LEO, "1500")
    await wx.choose(LEO, "发送")
    assert any("方案已发送" in t for t in wx.seen[LEO]), wx.seen[LEO]
    (notice,) = wx.fake.templates(WANG)
    assert notice["template_id"] == TEMPLATES["offer"]
    assert all(v["value"].strip() for v in notice["data"].values())
    assert not any("提出新方案" in t for t in wx.look(WANG))  # the offer itself waits for them
    assert (await wx.app.store.wechat_waiting()).notified >= 1

    opened = await wx.say(WANG, "你好")  # they open the chat: the offer comes
    assert any("提出新方案" in t for t in opened), opened
    assert (await wx.app.store.wechat_waiting()).total == 0
    wx.typists.add(WANG)  # from here the borrower types: the offer's choice by its letter
    assert numbered(opened, "查看并答复") == "a"
    await wx.choose(WANG, "查看并答复")
    await wx.choose(WANG, "接受")
    assert_agreement_as_text(wx, await agreement_hash(wx))
    await wx.choose(WANG, "确认这份协议")
    await wx.choose(LEO, "确认这份协议")
    assert any("已达成协议" in t for t in wx.look(WANG)), wx.seen[WANG]
    assert_within_limits(wx)


async def agreement_hash(wx: Wx) -> str:
    async with wx.app.store.unit() as session:
        return str(await session.scalar(select(models.Agreement.content_hash)))


def assert_agreement_as_text(wx: Wx, content_hash: str) -> None:
    """WeChat cannot send files: the agreement arrives as text in numbered parts, with its hash."""
    texts = wx.seen[WANG]
    parts = [t for t in texts if re.match(r"【agreement-1-v1\.txt \d+/\d+】", t)]
    assert parts, texts
    total = int(re.match(r"【\S+ \d+/(\d+)】", parts[0]).group(1))  # type: ignore[union-attr]
    assert len(parts) == total and "还款协议 – 案件 1，第 1 版" in parts[0]
    assert any(content_hash in t for t in texts), "the agreement's hash is not among what was sent"
    assert any("SHA-256" in t and "/help" in t for t in texts)  # and how to get the file itself


async def test_a_scan_while_already_following_joins_too(wx: Wx, capsys: pytest.CaptureFixture[str]) -> None:
    await wx.turn(LEO, wx.wechat.subscribe(LEO))
    scene, ticket = await invite_by_qr_code(wx, capsys)
    joined = await wx.turn(LEO, wx.wechat.scan(LEO, scene, ticket))
    assert any("此账号现在代表 Demo Lender" in t for t in joined), joined
    await asyncio.sleep(1.05)  # events are told apart by their second (WeChat's own advice for retries)
    again = await wx.turn(LEO, wx.wechat.scan(LEO, scene, ticket))  # an invite works once
    assert not any("此账号现在代表" in t for t in again)


async def test_every_message_stays_within_2048_bytes_even_for_long_texts(wx: Wx) -> None:
    """A long hardship story (2,000 characters, about 6,000 bytes) read by the mediator, and the borrower's
    data export: everything sent is within WeChat's limit, and nothing of the story is lost."""
    story = ("我在一家工厂工作了八年，十月份工厂倒闭，我失业了。家里还有两个孩子要上学。" * 60)[:2000]
    steps = [(kind, story if value == TO_EVIDENCE[-1][1] else value) for kind, value in TO_SUBMIT]
    await operator_on_wechat(wx)
    await walk(wx, steps)
    await wx.choose(WANG, "提交")
    await wx.say(OLGA, "/queue")
    brief = await wx.choose(OLGA, "#1")
    assert len(brief) >= 2  # split across messages
    shown = "".join(t.replace("\n", "") for t in brief)
    assert shown.count("十月份工厂倒闭") == story.count("十月份工厂倒闭")  # nothing lost at the cuts
    exported = await wx.say(WANG, "/mydata")
    assert any(re.match(r"【\S+ 1/\d+】", t) for t in exported), exported
    assert_within_limits(wx)
    assert len(wx.everything()) > 30


async def test_the_custom_menu_is_published_and_its_taps_work(wx: Wx) -> None:
    assert await wechat_cli.publish_menu(Namespace(locale="zh_CN"), wx.settings) == 0
    assert wx.fake.menu is not None  # WeChat accepted it (names and keys within its limits)
    keys = [b.get("key") for top in wx.fake.menu["button"] for b in [top, *top.get("sub_button", [])]]
    await submitted(wx)
    status = await wx.turn(WANG, wx.wechat.click(WANG, "status"))
    assert any("已提交，等待调解员审核" in t for t in status), status
    # Taps on different items within one second are different events (the EventKey is in the key).
    legal = await wx.turn(WANG, wx.wechat.click(WANG, "legal"))
    assert legal and all(key in keys for key in ("status", "legal"))
    person = await wx.turn(WANG, wx.wechat.click(WANG, "person"))
    assert person and "调解员" in "".join(person)


# `loanbridge serve` as a real process


async def test_loanbridge_serve_answers_wechat_as_a_process_and_keeps_its_secrets(
    tmp_path: Path, database_url: str
) -> None:
    fake = await FakeWeChat().start()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": CHECKOUT,  # this checkout's code, not the installed one
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": TEST_SIGNING_KEY,
        "LOANBRIDGE_SMS": "log",
        "LOANBRIDGE_WECHAT_APP_ID": APP_ID,
        "LOANBRIDGE_WECHAT_APP_SECRET": APP_SECRET,
        "LOANBRIDGE_WECHAT_TOKEN": CALLBACK_TOKEN,
        "LOANBRIDGE_WECHAT_AES_KEY": AES_KEY,
        "LOANBRIDGE_WECHAT_API_URL": fake.url,
        "LOANBRIDGE_WECHAT_LISTEN": f"127.0.0.1:{port}",
    }
    env.pop("LOANBRIDGE_TELEGRAM_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with WeChatServer(f"http://127.0.0.1:{port}/wechat", aes_key=AES_KEY, fake=fake) as wechat:
            await _until_listening(wechat, process)
            assert (await wechat.verify("20261201"))[1] == "20261201"
            welcome = await wechat.subscribe(WANG)
            assert welcome.status == 200 and welcome.text and "本服务完全免费" in welcome.text
            forged = await wechat.post_raw({"signature": "0" * 40, "timestamp": "1", "nonce": "2"}, "<xml/>")
            assert forged.status == 403
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.stop()
    assert process.stderr is not None
    log = (await process.stderr.read()).decode(errors="replace")
    assert "wechat: callback on" in log and "stopping" in log
    secrets = [APP_SECRET, CALLBACK_TOKEN, AES_KEY, *fake.issued_tokens()]
    assert not [s[:6] for s in secrets if s in log]  # no secret and no access token reaches the log


async def _until_listening(wechat: WeChatServer, process: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        assert process.returncode is None, "serve stopped at start-up"
        assert asyncio.get_running_loop().time() < deadline, "serve did not start listening"
        try:
            if (await wechat.verify("1"))[0] == 200:
                return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)


async def test_two_serve_processes_share_one_access_token_and_one_conversation(
    database_url: str, clock: FakeClock
) -> None:
    """Two ``serve`` instances on one database behind WeChat's callback (any message may reach either), and a
    WeChat that invalidates a token as soon as another is fetched: one token serves both, and a choice shown
    by one is understood by the other."""
    fake = await FakeWeChat(strict_tokens=True).start()
    ports = free_port(), free_port()
    codes = Codes()
    try:
        async with (
            serving(wechat_settings(database_url, fake, ports[0], safe=False), codes, clock) as first,
            serving(wechat_settings(database_url, fake, ports[1], safe=False), codes, clock) as second,
            WeChatServer(f"http://127.0.0.1:{ports[0]}/wechat", fake=fake) as one,
            WeChatServer(f"http://127.0.0.1:{ports[1]}/wechat", fake=fake) as other,
        ):
            await seed(first.store)
            welcome = await one.subscribe(WANG)
            assert welcome.text and numbered([welcome.text], "开始吧") == "1"
            consent = await other.text(WANG, "1")  # the other process knows what "1" meant
            assert consent.text and "明确同意" in consent.text
            asked = await one.text(WANG, str(numbered([consent.text], "我同意")))
            assert asked.text and "编号" in asked.text
            for app in (first, second):
                await app.delivery.drain()
            await asyncio.sleep(0.5)  # anything either process still had in hand
            for app in (first, second):
                await app.delivery.drain()
    finally:
        await fake.stop()
    sent = fake.texts(WANG)
    assert all(text.startswith("也可以在这里直接选您的回答") for text in sent), sent  # only the menu copies:
    assert len(sent) == 3  # each answer was read once, in the HTTP answer, never again through the API
    assert fake.tokens_issued == 1
    assert not [c.answer for c in fake.calls if c.answer.get("errcode") in (40001, 42001)]
