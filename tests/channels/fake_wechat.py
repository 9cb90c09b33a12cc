"""A WeChat Official Account API server on 127.0.0.1 that speaks the real protocol (aiohttp).

The endpoints the product uses, at their real paths and with their real field names: the access token
(``GET /cgi-bin/token``), customer-service messages (``POST /cgi-bin/message/custom/send``, ``text`` and the
menu message ``msgmenu``), template messages (``POST /cgi-bin/message/template/send``), media download
(``GET /cgi-bin/media/get``), parametric QR codes (``POST /cgi-bin/qrcode/create``) and the custom menu
(``POST /cgi-bin/menu/create``). Answers are HTTP 200 with WeChat's JSON, errors in its shape
``{"errcode": N, "errmsg": "..."}``.

It enforces what the real platform enforces and the product must respect: a valid, current access token
(40001 / 42001 / 41001), the 48-hour window since the person last wrote (45015), 2,048 UTF-8 bytes of text
(45002), unsubscribed people (43004), and it can be told to answer a person or an endpoint with a quota error
(45009, 45047) or anything else. Its clock is its own (``advance``), so a test can move it with the product's.
Every call is recorded (``calls``) with its answer; ``sent``, ``texts``, ``menus`` and ``templates`` read what
reached a person, ``contents`` everything the product tried to send.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "wx5e1f0ad7c3b2a9d4"
APP_SECRET = "3b8f0c1d2e4a5b6c7d8e9f0a1b2c3d4e"
TOKEN_LIFETIME = 7200  # seconds, as WeChat answers
OLD_TOKEN_GRACE = 300  # a replaced token still works for five minutes (WeChat's documented behaviour)
WINDOW = 48 * 3600  # customer-service messages: within 48 hours of the person's last message
TEXT_LIMIT = 2048  # bytes of UTF-8 in a text message's content
TEMPORARY_QR_DEFAULT = 60
TEMPORARY_QR_MAX = 2_592_000  # 30 days

# errmsg as WeChat words them (it appends a request id, which clients must not depend on).
ERRORS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    45002: "content size out of limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}

MENU_TYPES = {
    "click": "key",
    "view": "url",
    "miniprogram": "url",
    "scancode_push": "key",
    "scancode_waitmsg": "key",
    "pic_sysphoto": "key",
    "pic_photo_or_album": "key",
    "pic_weixin": "key",
    "location_select": "key",
    "media_id": "media_id",
    "article_id": "article_id",
    "article_view_limited": "article_id",
}


@dataclass
class Call:
    method: str  # GET or POST
    path: str  # /cgi-bin/message/custom/send
    params: dict[str, str]  # the query string
    body: Any  # the JSON body (None for GET)
    at: float  # time.monotonic() when it arrived
    answer: dict[str, Any] = field(default_factory=dict)  # the JSON answered (media: {"errcode": 0})

    @property
    def ok(self) -> bool:
        return int(self.answer.get("errcode", 0)) == 0


@dataclass
class QrCode:
    ticket: str
    action: str
    scene: str
    expires_at: float | None  # the fake's clock; None for a permanent code


@dataclass
class FakeWeChat:
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    # the person's last message, on the fake's clock (``wrote``); no entry: the window never opened
    last_wrote: dict[str, float] = field(default_factory=dict)
    unsubscribed: set[str] = field(default_factory=set)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media_id -> (bytes, content type)
    qrcodes: dict[str, QrCode] = field(default_factory=dict)
    menu: dict[str, Any] | None = None  # the custom menu last published
    # scripted refusals: an openid's next sends, or an endpoint's next calls, answer these errcodes
    failures: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    endpoint_failures: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # template ids the account owns; empty: any id is accepted
    template_ids: set[str] = field(default_factory=set)
    # customer-service messages allowed per person after each of their messages (45047 beyond); None: no cap
    response_limit: int | None = None
    # True: fetching a token invalidates the previous one at once (as when another process fetched one)
    strict_tokens: bool = False
    offset: float = 0.0  # seconds the fake's clock is ahead of the wall clock
    tokens_issued: int = 0
    _tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry on the fake's clock
    _invalid: set[str] = field(default_factory=set)
    _replaced: dict[str, float] = field(default_factory=dict)  # token -> when it stops working (40001)
    _responses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _ids: Any = field(default_factory=lambda: itertools.count(200_228_332))
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeWeChat:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/message/custom/typing", self._typing)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/qrcode/create", self._qrcode_create)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_route("*", "/{path:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # The fake's clock and what people do

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, **delta: float) -> None:
        """Move the fake's clock on (``hours=50``), as a test moves the product's."""
        self.offset += (
            delta.get("days", 0) * 86400
            + delta.get("hours", 0) * 3600
            + delta.get("minutes", 0) * 60
            + delta.get("seconds", 0)
        )

    def wrote(self, openid: str, at: float | None = None) -> None:
        """``openid`` sent the account a message (or followed it, scanned a code, tapped the menu) at ``at``
        (the fake's clock, default now): the 48-hour window opens again and the response count restarts."""
        self.last_wrote[openid] = self.now() if at is None else at
        self._responses[openid] = 0
        self.unsubscribed.discard(openid)

    def unsubscribe(self, openid: str) -> None:
        self.unsubscribed.add(openid)

    def register_media(self, content: bytes, content_type: str = "image/jpeg") -> str:
        """An image a person sent: its media id, as the callback's ``MediaId`` carries it."""
        media_id = "MEDIA_" + secrets.token_urlsafe(24)
        self.media[media_id] = (content, content_type)
        return media_id

    def in_window(self, openid: str) -> bool:
        wrote = self.last_wrote.get(openid)
        return wrote is not None and self.now() - wrote < WINDOW

    # Tokens

    def current_tokens(self) -> list[str]:
        return [t for t in self._tokens if self._token_error(t) == 0]

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far (valid or not): none may reach a log."""
        return list(self._tokens)

    def expire_tokens(self) -> None:
        """Every token issued so far has run out: calls with one answer 42001."""
        for token in self._tokens:
            self._tokens[token] = min(self._tokens[token], self.now() - 1)

    def invalidate_tokens(self) -> None:
        """Every token issued so far is no longer valid (say the secret was reset): calls answer 40001."""
        self._invalid.update(self._tokens)

    # What the product sent

    def accepted(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path and c.ok]

    def sent(self, openid: str) -> list[dict[str, Any]]:
        """The customer-service messages that reached ``openid`` (any msgtype), in order."""
        return [
            c.body for c in self.accepted("/cgi-bin/message/custom/send") if c.body.get("touser") == openid
        ]

    def texts(self, openid: str) -> list[str]:
        """What ``openid`` read in each customer-service message: a text's content, or a menu message's head,
        choices (one a line) and tail."""
        return [message_text(body) for body in self.sent(openid)]

    def menus(self, openid: str) -> list[dict[str, Any]]:
        """The ``msgmenu`` objects that reached ``openid``."""
        return [body["msgmenu"] for body in self.sent(openid) if body.get("msgtype") == "msgmenu"]

    def templates(self, openid: str) -> list[dict[str, Any]]:
        """The template messages that reached ``openid`` (touser, template_id, data, url / miniprogram)."""
        return [
            c.body for c in self.accepted("/cgi-bin/message/template/send") if c.body.get("touser") == openid
        ]

    def refused(self, openid: str | None = None) -> list[Call]:
        """Sends answered with an error, to ``openid`` or to anyone."""
        return [
            c
            for c in self.calls
            if c.path.startswith("/cgi-bin/message/")
            and not c.ok
            and (openid is None or (isinstance(c.body, dict) and c.body.get("touser") == openid))
        ]

    def choice(self, openid: str, label: str) -> tuple[str, str]:
        """(id, content) of the latest menu choice sent to ``openid`` whose words contain ``label``: what a
        tap sends back (a text with that content and ``bizmsgmenuid`` = id)."""
        for menu in reversed(self.menus(openid)):
            for item in menu.get("list", []):
                if label in str(item.get("content", "")):
                    return str(item["id"]), str(item["content"])
        offered = [item.get("content") for menu in self.menus(openid)[-1:] for item in menu.get("list", [])]
        raise AssertionError(f"no menu choice {label!r} sent to {openid}; the latest offered {offered}")

    def contents(self) -> list[str]:
        """Every text the product tried to send (accepted or refused): text contents, menu messages as read,
        template data values."""
        found: list[str] = []
        for call in self.calls:
            if not isinstance(call.body, dict):
                continue
            if call.path == "/cgi-bin/message/custom/send":
                found.append(message_text(call.body))
            elif call.path == "/cgi-bin/message/template/send":
                data = call.body.get("data") or {}
                found.extend(str(v.get("value", "")) for v in data.values() if isinstance(v, dict))
        return found

    def oversized(self) -> list[str]:
        """Everything the product tried to send above WeChat's byte limit (should be empty)."""
        return [text for text in self.contents() if len(text.encode()) > TEXT_LIMIT]

    def scene_of(self, ticket: str) -> str:
        return self.qrcodes[ticket].scene

    # The protocol

    async def _token(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        call = self._record(request, params, None)
        if params.get("grant_type") != "client_credential":
            return self._answer(call, error(40002))
        if params.get("appid") != self.app_id:
            return self._answer(call, error(40013))
        if params.get("secret") != self.app_secret:
            return self._answer(call, error(40125))
        if failure := self._scripted("/cgi-bin/token"):
            return self._answer(call, error(failure))
        now = self.now()
        for token in self._tokens:
            grace = now if self.strict_tokens else now + OLD_TOKEN_GRACE
            self._replaced[token] = min(self._replaced.get(token, grace), grace)
        token = secrets.token_urlsafe(96)[:128]
        self._tokens[token] = now + TOKEN_LIFETIME
        self.tokens_issued += 1
        return self._answer(call, {"access_token": token, "expires_in": TOKEN_LIFETIME})

    async def _custom_send(self, request: web.Request) -> web.Response:
        call, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        if refused := self._custom_send_refusal(call.body):
            return self._answer(call, error(refused))
        self._responses[str(call.body["touser"])] += 1
        return self._answer(call, {"errcode": 0, "errmsg": "ok"})

    def _custom_send_refusal(self, body: dict[str, Any]) -> int:  # noqa: PLR0911 - one per refusal, in order
        openid = str(body.get("touser") or "")
        if not openid:
            return 40003
        msgtype = body.get("msgtype")
        if msgtype == "text":
            content = (body.get("text") or {}).get("content")
            if not isinstance(content, str) or not content:
                return 47001
        elif msgtype == "msgmenu":
            if not _valid_menu_message(body.get("msgmenu")):
                return 47001
        else:
            return 40008
        if len(message_text(body).encode()) > TEXT_LIMIT:
            return 45002
        if failure := self._scripted("/cgi-bin/message/custom/send", openid):
            return failure
        if openid in self.unsubscribed:
            return 43004
        if not self.in_window(openid):
            return 45015
        if self.response_limit is not None and self._responses[openid] >= self.response_limit:
            return 45047
        return 0

    async def _typing(self, request: web.Request) -> web.Response:
        call, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        openid = str(call.body.get("touser") or "")
        if call.body.get("command") not in ("Typing", "CancelTyping") or not openid:
            return self._answer(call, error(47001))
        if not self.in_window(openid):
            return self._answer(call, error(45015))
        return self._answer(call, {"errcode": 0, "errmsg": "ok"})

    async def _template_send(self, request: web.Request) -> web.Response:
        call, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        if refused := self._template_refusal(call.body):
            return self._answer(call, error(refused))
        return self._answer(call, {"errcode": 0, "errmsg": "ok", "msgid": next(self._ids)})

    def _template_refusal(self, body: dict[str, Any]) -> int:  # noqa: PLR0911 - one per refusal, in order
        openid = str(body.get("touser") or "")
        template_id = body.get("template_id")
        data = body.get("data")
        mini = body.get("miniprogram")
        if not openid:
            return 40003
        if not isinstance(template_id, str) or (self.template_ids and template_id not in self.template_ids):
            return 40037
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
        ):
            return 47001
        if ("url" in body and not isinstance(body["url"], str)) or (
            mini is not None and not (isinstance(mini, dict) and mini.get("appid"))
        ):
            return 47001
        if failure := self._scripted("/cgi-bin/message/template/send", openid):
            return failure
        if openid in self.unsubscribed:
            return 43004
        return 0

    async def _media_get(self, request: web.Request) -> web.Response:
        call, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        media_id = call.params.get("media_id", "")
        if media_id not in self.media:
            # WeChat answers a failed download with its JSON error, served as text/plain.
            call.answer = error(40007)
            return web.Response(text=json.dumps(call.answer), content_type="text/plain")
        content, content_type = self.media[media_id]
        call.answer = {"errcode": 0}
        extension = content_type.rsplit("/", 1)[-1]
        return web.Response(
            body=content,
            content_type=content_type,
            headers={"Content-disposition": f'attachment; filename="{media_id}.{extension}"'},
        )

    async def _qrcode_create(self, request: web.Request) -> web.Response:
        call, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        body = call.body
        action = body.get("action_name")
        scene = ((body.get("action_info") or {}).get("scene")) or {}
        if action in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE"):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                return self._answer(call, error(40097))
        elif action in ("QR_SCENE", "QR_LIMIT_SCENE"):
            value = scene.get("scene_id")
            if not isinstance(value, int) or value <= 0 or (action == "QR_LIMIT_SCENE" and value > 100_000):
                return self._answer(call, error(40097))
        else:
            return self._answer(call, error(40097))
        ticket = "gQ" + secrets.token_urlsafe(48)
        answer: dict[str, Any] = {
            "ticket": ticket,
            "url": f"http://weixin.qq.com/q/{secrets.token_urlsafe(16)}",
        }
        expires_at = None
        if "LIMIT" not in action:
            seconds = int(body.get("expire_seconds") or TEMPORARY_QR_DEFAULT)
            seconds = min(max(seconds, 60), TEMPORARY_QR_MAX)
            answer["expire_seconds"] = seconds
            expires_at = self.now() + seconds
        self.qrcodes[ticket] = QrCode(ticket, str(action), str(value), expires_at)
        return self._answer(call, answer)

    async def _menu_create(self, request: web.Request) -> web.Response:
        call, refusal = await self._authorised(request)
        if refusal is not None:
            return refusal
        problem = _menu_problem(call.body)
        if problem:
            return self._answer(call, error(problem))
        self.menu = call.body
        return self._answer(call, {"errcode": 0, "errmsg": "ok"})

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await request.read()
        call = Call(request.method, request.path, dict(request.query), body or None, time.monotonic())
        self.calls.append(call)
        return web.Response(status=404, text="404 Not Found")

    # Plumbing

    async def _authorised(self, request: web.Request) -> tuple[Call, web.Response | None]:
        """The call recorded, and WeChat's refusal if its body or its token is not acceptable."""
        body, problem = await _json_body(request) if request.method == "POST" else (None, 0)
        call = self._record(request, dict(request.query), body)
        token = call.params.get("access_token")
        refused = problem or (self._token_error(token) if token else 41001) or self._scripted(call.path)
        return call, (self._answer(call, error(refused)) if refused else None)

    def _token_error(self, token: str) -> int:
        now = self.now()
        if token not in self._tokens or token in self._invalid or self._replaced.get(token, now + 1) <= now:
            return 40001  # unknown, invalidated, or replaced by a newer one ("not latest")
        if self._tokens[token] <= now:
            return 42001
        return 0

    def _scripted(self, path: str, openid: str | None = None) -> int:
        if openid is not None and self.failures.get(openid):
            return self.failures[openid].pop(0)
        if openid is None and self.endpoint_failures.get(path):
            return self.endpoint_failures[path].pop(0)
        return 0

    def _record(self, request: web.Request, params: dict[str, str], body: Any) -> Call:
        call = Call(request.method, request.path, params, body, time.monotonic())
        self.calls.append(call)
        return call

    def _answer(self, call: Call, answer: dict[str, Any]) -> web.Response:
        call.answer = answer
        # WeChat writes JSON with its characters as they are (not \\u escapes), as application/json.
        return web.Response(
            text=json.dumps(answer, ensure_ascii=False),
            content_type="application/json",
            charset="utf-8",
        )


async def _json_body(request: web.Request) -> tuple[Any, int]:
    """The POSTed JSON, and WeChat's errcode when there is none (44002) or it is not a JSON object (47001)."""
    raw = await request.read()
    if not raw:
        return None, 44002
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw, 47001
    return body, 0 if isinstance(body, dict) else 47001


def error(errcode: int) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": f"{ERRORS.get(errcode, 'error')} rid: {secrets.token_hex(12)}"}


def message_text(body: dict[str, Any]) -> str:
    """A customer-service message as its reader sees it."""
    if body.get("msgtype") == "text":
        return str((body.get("text") or {}).get("content") or "")
    if body.get("msgtype") == "msgmenu":
        menu = body.get("msgmenu") or {}
        lines = [str(menu.get("head_content") or "")]
        lines += [str(item.get("content", "")) for item in menu.get("list", []) if isinstance(item, dict)]
        lines.append(str(menu.get("tail_content") or ""))
        return "\n".join(line for line in lines if line)
    return ""


def _valid_menu_message(menu: Any) -> bool:
    if not isinstance(menu, dict):
        return False
    choices = menu.get("list")
    if not isinstance(choices, list) or not choices:
        return False
    ids = [item.get("id") if isinstance(item, dict) else None for item in choices]
    return all(
        isinstance(item, dict) and isinstance(item.get("id"), str | int) and str(item.get("content") or "")
        for item in choices
    ) and len(set(map(str, ids))) == len(ids)


def _menu_problem(body: Any) -> int:  # noqa: PLR0911 - one return per refusal, in WeChat's order
    """WeChat's errcode for a custom menu it would refuse, 0 when it is fine."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 40016
    for button in buttons:
        if not isinstance(button, dict):
            return 47001
        subs = button.get("sub_button")
        if subs:
            if len(subs) > 5:
                return 40016
            if problem := _name_problem(button, 16):
                return problem
            for sub in subs:
                if problem := _button_problem(sub, 60):
                    return problem
        elif problem := _button_problem(button, 16):
            return problem
    return 0


def _name_problem(button: dict[str, Any], limit: int) -> int:
    name = button.get("name")
    if not isinstance(name, str) or not name or len(name.encode()) > limit:
        return 40018
    return 0


def _button_problem(button: Any, name_limit: int) -> int:
    if not isinstance(button, dict):
        return 47001
    if problem := _name_problem(button, name_limit):
        return problem
    kind = button.get("type")
    if kind not in MENU_TYPES:
        return 40017
    needed = button.get(MENU_TYPES[kind])
    if not isinstance(needed, str) or not needed:
        return 40019 if MENU_TYPES[kind] == "key" else 47001
    if kind == "click" and len(needed.encode()) > 128:
        return 40019
    return 0
