"""WeChat's servers towards our callback: the XML WeChat posts for what a person does, signed (and in safe
mode encrypted) exactly as WeChat does it, posted over real HTTP with WeChat's retries, and the passive reply
read back (decrypted and checked) with the time each attempt took.

Plain mode: the query carries ``signature`` = sha1 of the sorted token, timestamp and nonce, and ``openid``;
the body is the message XML. Safe mode (an EncodingAESKey): the query adds ``encrypt_type=aes`` and
``msg_signature`` = sha1 of the sorted token, timestamp, nonce and the ``Encrypt`` value; the body is
``<xml><ToUserName/><Encrypt/></xml>`` with the message encrypted by wechatpy's ``PrpCrypto`` (AES-CBC of
random(16) + length + XML + app id); the reply comes back as ``<xml><Encrypt/><MsgSignature/><TimeStamp/>
<Nonce/></xml>``, verified and decrypted here.

WeChat waits 5 seconds for an answer and then tries again, three times in all, with the same MsgId (events:
the same FromUserName + CreateTime); ``post`` does the same, and ``redeliver`` sends one message several times
on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from tests.channels.fake_wechat import APP_ID, TEXT_LIMIT, FakeWeChat

CALLBACK_TOKEN = "loanbridgeCallbackToken2026"
AES_KEY = (
    base64.b64encode(hashlib.sha256(b"loanbridge test aes key").digest()).decode().rstrip("=")
)  # 43 chars
ACCOUNT = "gh_1a2b3c4d5e6f"  # the Official Account's original id, the ToUserName of everything posted
WAIT = 5.0  # WeChat's patience, seconds
ATTEMPTS = 3

_msg_ids = itertools.count(24_000_000_000_000_000 + secrets.randbelow(10**15))


@dataclass
class Attempt:
    status: int | None  # None: no answer within the wait (timeout) or the connection failed
    elapsed: float  # seconds from sending to the answer (or giving up)
    body: str = ""


@dataclass
class Reply:
    """What WeChat got back for one message: the last attempt's status and body, and the passive reply."""

    status: int | None
    raw: str
    attempts: list[Attempt]
    message: dict[str, str] | None = None  # the passive reply's fields (decrypted); None for success / empty

    @property
    def text(self) -> str | None:
        """The passive reply's text, None when the callback answered ``success`` (or nothing)."""
        return None if self.message is None else self.message.get("Content")

    @property
    def passive(self) -> bool:
        return self.message is not None

    @property
    def elapsed(self) -> float:
        return sum(a.elapsed for a in self.attempts)


@dataclass
class WeChatServer:
    """Posts to ``url`` (the callback, such as http://127.0.0.1:PORT/wechat) as WeChat would.

    ``fake``: the API server to tell when a person wrote (which opens their 48-hour window), as the real
    platform knows."""

    url: str
    token: str = CALLBACK_TOKEN
    app_id: str = APP_ID
    aes_key: str | None = None  # safe mode when set
    account: str = ACCOUNT
    fake: FakeWeChat | None = None
    wait: float = WAIT
    attempts: int = ATTEMPTS
    posted: list[Reply] = field(default_factory=list)
    _session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WeChatServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    # What a person does: the XML WeChat posts for it

    async def text(self, openid: str, content: str, *, menu_id: str | None = None) -> Reply:
        """A text message (``menu_id``: the tap of a menu message's choice, which WeChat posts as its words
        with ``bizmsgmenuid``)."""
        return await self.post(self.text_xml(openid, content, menu_id=menu_id), openid)

    async def tap(self, openid: str, label: str) -> Reply:
        """Tap the latest menu-message choice sent to ``openid`` whose words contain ``label``."""
        assert self.fake is not None, "tapping reads the menu messages the fake API server received"
        menu_id, content = self.fake.choice(openid, label)
        return await self.text(openid, content, menu_id=menu_id)

    async def image(self, openid: str, media_id: str) -> Reply:
        return await self.post(self.image_xml(openid, media_id), openid)

    async def subscribe(self, openid: str, scene: str | None = None, ticket: str | None = None) -> Reply:
        """Follow the account (``scene``: by scanning a parametric QR code while not yet following)."""
        return await self.post(self.event_xml(openid, "subscribe", scene=scene, ticket=ticket), openid)

    async def unsubscribe(self, openid: str) -> Reply:
        return await self.post(self.event_xml(openid, "unsubscribe"), openid)

    async def scan(self, openid: str, scene: str, ticket: str | None = None) -> Reply:
        """Scan a parametric QR code while already following the account."""
        return await self.post(self.event_xml(openid, "SCAN", key=scene, ticket=ticket), openid)

    async def click(self, openid: str, key: str) -> Reply:
        """Tap a custom-menu item of type ``click``."""
        return await self.post(self.event_xml(openid, "CLICK", key=key), openid)

    def text_xml(self, openid: str, content: str, *, menu_id: str | None = None) -> str:
        fields: dict[str, Any] = {"MsgType": "text", "Content": content, "MsgId": next(_msg_ids)}
        if menu_id is not None:
            fields["bizmsgmenuid"] = menu_id
        return self.xml(openid, fields)

    def image_xml(self, openid: str, media_id: str) -> str:
        fields = {
            "MsgType": "image",
            "PicUrl": f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id[-12:]}/0",
            "MediaId": media_id,
            "MsgId": next(_msg_ids),
        }
        return self.xml(openid, fields)

    def event_xml(
        self,
        openid: str,
        event: str,
        *,
        key: str | None = None,
        scene: str | None = None,
        ticket: str | None = None,
    ) -> str:
        fields: dict[str, Any] = {"MsgType": "event", "Event": event}
        if scene is not None:  # a subscribe through a parametric QR code: the scene with WeChat's prefix
            fields["EventKey"] = f"qrscene_{scene}"
        elif key is not None:
            fields["EventKey"] = key
        elif event in ("subscribe", "unsubscribe"):
            fields["EventKey"] = ""
        if ticket is not None or (scene is not None) or event == "SCAN":
            fields["Ticket"] = ticket or "gQ" + secrets.token_urlsafe(48)
        return self.xml(openid, fields)

    def other_xml(self, openid: str, msg_type: str, **fields: Any) -> str:
        """A kind the product does not handle specially (voice, video, location, link ...)."""
        return self.xml(openid, {"MsgType": msg_type, **fields, "MsgId": next(_msg_ids)})

    def xml(self, openid: str, fields: dict[str, Any], created: int | None = None) -> str:
        head = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": created if created is not None else int(time.time()),
        }
        return to_xml({**head, **fields})

    # Posting as WeChat does

    def query(self, body: str | None = None, *, openid: str | None = None) -> tuple[dict[str, str], str]:
        """The signed query string, and the body as posted (encrypted in safe mode)."""
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if openid is not None:
            params["openid"] = openid
        if body is None or self.aes_key is None:
            return params, body or ""
        encrypted = PrpCrypto(_aes(self.aes_key)).encrypt(body, self.app_id).decode()
        params |= {"encrypt_type": "aes", "msg_signature": sign(self.token, timestamp, nonce, encrypted)}
        envelope = to_xml({"ToUserName": self.account, "Encrypt": encrypted})
        return params, envelope

    async def post(self, xml: str, openid: str | None = None, *, opens_window: bool = True) -> Reply:
        """Post ``xml`` as WeChat does: up to ``attempts`` tries, each waiting ``wait`` seconds, the same
        message each time (signed afresh); the reply is read from the first answer."""
        if self.fake is not None and openid is not None and opens_window:
            if _unfollows(xml):
                self.fake.unsubscribe(openid)
            else:
                self.fake.wrote(openid)
        attempts: list[Attempt] = []
        for _ in range(self.attempts):
            params, body = self.query(xml, openid=openid)
            attempt = await self._send(params, body)
            attempts.append(attempt)
            if attempt.status is not None and attempt.status < 500:
                break
        last = attempts[-1]
        reply = Reply(last.status, last.body, attempts)
        if last.status == 200:
            reply.message = self.read_reply(last.body, openid)
        self.posted.append(reply)
        return reply

    async def redeliver(self, xml: str, openid: str | None = None, times: int = ATTEMPTS) -> list[Reply]:
        """Post the same message ``times`` times, one after another (WeChat's retries when it did not see an
        answer in time)."""
        return [await self.post(xml, openid) for _ in range(times)]

    async def post_raw(self, params: dict[str, str], body: str | bytes) -> Attempt:
        """One POST with exactly these query parameters and body (for forged or broken requests)."""
        return await self._send(params, body)

    async def verify(self, echostr: str | None = None, *, signature: str | None = None) -> tuple[int, str]:
        """WeChat's GET when the callback URL is configured: (status, body); a good one echoes echostr."""
        echostr = echostr or str(secrets.randbelow(10**19))
        params, _ = self.query()
        params["echostr"] = echostr
        if signature is not None:
            params["signature"] = signature
        async with self.session.get(self.url, params=params) as answer:
            return answer.status, await answer.text()

    async def _send(self, params: dict[str, str], body: str | bytes) -> Attempt:
        started = time.monotonic()
        data = body.encode() if isinstance(body, str) else body
        try:
            async with self.session.post(
                self.url,
                params=params,
                data=data,
                headers={"Content-Type": "text/xml"},
                timeout=aiohttp.ClientTimeout(total=self.wait),
            ) as answer:
                text = await answer.text()
                return Attempt(answer.status, time.monotonic() - started, text)
        except (TimeoutError, aiohttp.ClientError):
            return Attempt(None, time.monotonic() - started)

    # Reading the passive reply

    def read_reply(self, body: str, openid: str | None) -> dict[str, str] | None:
        """The passive reply's fields; None for ``success`` or an empty body (nothing to show). Fails the test
        on anything WeChat would reject (it would show the person "该公众号暂时无法提供服务")."""
        if body.strip() in ("", "success"):
            return None
        if self.aes_key is not None:
            outer = from_xml(body)
            assert set(outer) >= {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}, (
                f"not an encrypted reply: {body}"
            )
            crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
            body = crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        message = from_xml(body)
        assert message.get("FromUserName") == self.account, f"reply not from the account: {message}"
        if openid is not None:
            assert message.get("ToUserName") == openid, f"reply to someone else: {message}"
        assert message.get("CreateTime", "").isdigit() and message.get("MsgType"), (
            f"incomplete reply: {message}"
        )
        if message["MsgType"] == "text":
            assert len(message.get("Content", "").encode()) <= TEXT_LIMIT, "a passive reply above 2,048 bytes"
        return message

    def replies(self) -> list[str]:
        """Every passive reply text so far (for assertions over everything answered)."""
        return [r.text for r in self.posted if r.text is not None]

    def latencies(self) -> list[float]:
        return [a.elapsed for r in self.posted for a in r.attempts]


def numbered(texts: list[str], label: str) -> str | None:
    """The number (or letter) of the latest choice line containing ``label`` ("2. 失业", "a. 打开案件 1";
    also "2) 失业", "【2】失业"): what a person types to choose it."""
    for text in reversed(texts):
        for line in reversed(text.splitlines()):
            found = re.match(r"\s*[【\[(（]?(\d{1,2}|[a-h])[】\])）.、:：]\s*(.+)", line)
            if found and label in found.group(2):
                return found.group(1)
    return None


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def to_xml(fields: dict[str, Any]) -> str:
    """WeChat's flat XML: numbers bare, text in CDATA (a "]]>" inside split across two sections)."""
    lines = ["<xml>"]
    for name, value in fields.items():
        if isinstance(value, int):
            lines.append(f"<{name}>{value}</{name}>")
        else:
            text = str(value).replace("]]>", "]]]]><![CDATA[>")
            lines.append(f"<{name}><![CDATA[{text}]]></{name}>")
    lines.append("</xml>")
    return "\n".join(lines)


def from_xml(body: str) -> dict[str, str]:
    root = ET.fromstring(body)  # noqa: S314 - our own server's reply, in a test
    assert root.tag == "xml", f"not WeChat XML: {body[:200]}"
    return {child.tag: child.text or "" for child in root}


def _aes(key: str) -> bytes:
    raw = base64.b64decode(key + "=")
    assert len(raw) == 32
    return raw


def _unfollows(xml: str) -> bool:
    """Messages, follows, scans and menu taps open the 48-hour window; an unfollow ends what WeChat allows."""
    return "<Event><![CDATA[unsubscribe]]></Event>" in xml
