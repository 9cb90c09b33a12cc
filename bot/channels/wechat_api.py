"""The few WeChat Official Account API endpoints the product uses, called with aiohttp.

wechatpy's ``WeChatClient`` is synchronous and reaches some endpoints (the token among them) through absolute
``https://api.weixin.qq.com`` URLs that its base URL setting does not change; here every call goes to the
configured base URL (``LOANBRIDGE_WECHAT_API_URL``), and wechatpy is used for what it is good at: signatures,
crypto and parsing callbacks (:mod:`bot.channels.wechat`).

:class:`WeChatApi`:
- ``send_text(openid, text)``, ``send_menu(openid, head, choices, tail)`` (the customer-service menu message
  ``msgmenu``; ``choices`` are (id, words)), ``send_template(openid, template_id, data)``,
  ``download(media_id) -> bytes``, ``create_qr(scene, seconds) -> {"ticket", "url", ...}``,
  ``create_menu(buttons)``.
- The access token comes from the store (:meth:`storage.wechat.WeChatStore.refresh_wechat_token`), shared by
  every process: refreshed when it expires within :data:`REFRESH_BEFORE`, and once more when WeChat says it
  is invalid or expired (40001, 42001, 40014) before the call is made again. It is never logged, and errors
  never carry the URL it rides in.
- WeChat's refusals raise :class:`WeChatError` (``errcode``); :data:`OUTSIDE_WINDOW` (45015),
  :data:`QUOTA` (45009, 45047) and :data:`UNSUBSCRIBED` (43004) are what the channel acts on. A transport
  failure raises :class:`WeChatUnavailable`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import aiohttp

from dialogs.ports import Clock
from storage.wechat import FetchToken

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.weixin.qq.com"
REFRESH_BEFORE = timedelta(minutes=10)  # refreshed this long before it expires: never used at its edge
TIMEOUT_SECONDS = 10.0
TOKEN_REJECTED = frozenset({40001, 42001, 40014})  # invalid, expired, malformed access token
OUTSIDE_WINDOW = 45015  # more than 48 hours since the person wrote (or they unfollowed)
QUOTA = frozenset({45009, 45047})  # the daily quota, or too many messages since the person wrote
UNSUBSCRIBED = frozenset({43004})
T = TypeVar("T")
MAX_MEDIA = 10 * 1024 * 1024  # images WeChat stores are far smaller; anything bigger is refused


class WeChatError(Exception):
    """WeChat refused a call: ``errcode`` says why (its errmsg is kept for the log, without the token)."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"wechat errcode {errcode}: {errmsg[:120]}")
        self.errcode = errcode


class WeChatUnavailable(Exception):
    """The API could not be reached, or answered something that is not WeChat's JSON."""


class TokenStore(Protocol):
    """Where the shared token lives: :class:`storage.store.SqlStore` is one."""

    async def refresh_wechat_token(
        self, app_id: str, fetch: FetchToken, *, valid_until: datetime, rejected: str | None = None
    ) -> tuple[str, datetime]: ...


class WeChatApi:
    """See the module docstring. ``start()`` before the first call, ``close()`` at the end."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        tokens: TokenStore,
        clock: Clock,
        base_url: str = DEFAULT_API_URL,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self._tokens = tokens
        self._clock = clock
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._token: tuple[str, datetime] | None = None
        self.token_fetches = 0  # how many tokens this process fetched from WeChat (the rest it read)

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # The endpoints

    async def send_text(self, openid: str, text: str) -> None:
        await self._post("/cgi-bin/message/custom/send", _text_body(openid, text))

    async def send_menu(self, openid: str, head: str, choices: list[tuple[str, str]], tail: str) -> None:
        menu = {
            "head_content": head,
            "list": [{"id": choice_id, "content": words} for choice_id, words in choices],
            "tail_content": tail,
        }
        await self._post(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "msgmenu", "msgmenu": menu}
        )

    async def send_template(self, openid: str, template_id: str, data: dict[str, str]) -> None:
        body = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        await self._post("/cgi-bin/message/template/send", body)

    async def download(self, media_id: str) -> bytes:
        """An image a person sent, by the ``MediaId`` of its callback."""

        async def call(token: str) -> bytes:
            response = await self._request("GET", "/cgi-bin/media/get", token, {"media_id": media_id})
            content, kind = response
            if kind.startswith(("application/json", "text/plain")):
                _raise_for(_json(content))  # WeChat answers a failed download with its JSON error
            return content

        return await self._with_token(call)

    async def create_qr(self, scene: str, seconds: int) -> dict[str, Any]:
        """A temporary parametric QR code whose scan sends ``scene`` back (SCAN / subscribe events)."""
        body = {
            "expire_seconds": seconds,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        return await self._post("/cgi-bin/qrcode/create", body)

    async def create_menu(self, buttons: list[dict[str, Any]]) -> None:
        await self._post("/cgi-bin/menu/create", {"button": buttons})

    # Plumbing

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False).encode()

        async def call(token: str) -> dict[str, Any]:
            content, _kind = await self._request("POST", path, token, data=payload)
            answer = _json(content)
            _raise_for(answer)
            return answer

        return await self._with_token(call)

    async def _with_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        token = await self._current_token()
        try:
            return await call(token)
        except WeChatError as error:
            if error.errcode not in TOKEN_REJECTED:
                raise
            log.info("wechat: the access token was refused (%s); refreshing it once", error.errcode)
            token = await self._current_token(rejected=token)
            return await call(token)

    async def _current_token(self, rejected: str | None = None) -> str:
        valid_until = self._clock.now() + REFRESH_BEFORE
        if rejected is None and self._token is not None and self._token[1] > valid_until:
            return self._token[0]
        self._token = await self._tokens.refresh_wechat_token(
            self.app_id, self._fetch_token, valid_until=valid_until, rejected=rejected
        )
        return self._token[0]

    async def _fetch_token(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        content, _kind = await self._request("GET", "/cgi-bin/token", None, params)
        answer = _json(content)
        _raise_for(answer)
        token, lives = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lives, int):
            raise WeChatUnavailable("the token endpoint answered without a token")
        self.token_fetches += 1
        log.info("wechat: fetched a new access token (valid %s s)", lives)
        return token, lives

    async def _request(
        self,
        method: str,
        path: str,
        token: str | None,
        params: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[bytes, str]:
        if self._session is None:
            await self.start()
        assert self._session is not None  # noqa: S101 - started just above
        query = dict(params or {})
        if token is not None:
            query["access_token"] = token
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else None
        try:
            async with self._session.request(
                method, self.base_url + path, params=query, data=data, headers=headers
            ) as response:
                content = await response.content.read(MAX_MEDIA + 1)
                if response.status != 200:
                    raise WeChatUnavailable(f"{path} answered HTTP {response.status}")
                return content, response.content_type
        except (aiohttp.ClientError, TimeoutError) as error:
            # Never the error's text: aiohttp's carries the URL, and with it the access token.
            raise WeChatUnavailable(f"{path}: {type(error).__name__}") from None


def _text_body(openid: str, text: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": text}}


def _json(content: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WeChatUnavailable("the API answered something that is not JSON") from None
    if not isinstance(answer, dict):
        raise WeChatUnavailable("the API answered JSON that is not an object")
    return answer


def _raise_for(answer: dict[str, Any]) -> None:
    errcode = answer.get("errcode", 0)
    if isinstance(errcode, int) and errcode != 0:
        raise WeChatError(errcode, str(answer.get("errmsg", "")))
