"""The Bot API's ``sendMessage`` over one keep-alive aiohttp session, for broadcasts only.

Why not the chosen library: measured with ``bench/broadcast.py``, python-telegram-bot's httpx pool spends
about 2 ms of CPU per call once a dozen connections are open (every request looks at every pooled socket),
and aiogram about 1.4 ms with its models; a broadcast at Telegram's 1,000 messages a second for paid bots
needs well under 1 ms. Replies, files, polling and webhooks keep using the library; only a broadcast's
plain text messages (and their buttons) go through here, with the same errors as :class:`BotApi`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from yarl import URL

from bot.channels.telegram import OutgoingButton, RetryAfter
from bot.delivery import Unreachable

TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


class BotApiError(Exception):
    """Telegram refused a message for a reason other than its rate or a blocked bot."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code


class BulkApi:
    def __init__(self, token: str, api_url: str, *, connections: int = 64) -> None:
        # The URL holds the token: it is never logged (errors name the code, not the request).
        self._url = URL(f"{api_url.rstrip('/')}/bot{token}/sendMessage", encoded=True)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=60)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=TIMEOUT,
            cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none: not parsed for each message
            headers={"Content-Type": "application/json"},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_text(
        self, chat_id: int, text: str, buttons: list[OutgoingButton], contact_label: str | None
    ) -> None:
        if self._session is None:
            raise RuntimeError("BulkApi.start() was not awaited")
        body = json.dumps(message_body(chat_id, text, buttons, contact_label), ensure_ascii=False)
        async with self._session.post(self._url, data=body.encode()) as response:
            status, content = response.status, await response.read()
        try:
            answer = json.loads(content)
        except ValueError:
            answer = None
        raise_for_answer(status, answer)


def message_body(
    chat_id: int, text: str, buttons: list[OutgoingButton], contact_label: str | None
) -> dict[str, Any]:
    """``sendMessage``'s JSON: HTML text, inline buttons under it or a one-tap "share my phone" keyboard."""
    body: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    if contact_label:
        share = [[{"text": contact_label, "request_contact": True}]]
        body["reply_markup"] = {"keyboard": share, "one_time_keyboard": True, "resize_keyboard": True}
    elif buttons:
        rows = [[{"text": b.label, "callback_data": b.data}] for b in buttons]
        body["reply_markup"] = {"inline_keyboard": rows}
    return body


def raise_for_answer(status: int, answer: Any) -> None:
    """Nothing for an accepted message; the library's errors otherwise (429 wait, 403 unreachable)."""
    if not isinstance(answer, dict):
        raise BotApiError(status, "the answer is not a Bot API object")
    if answer.get("ok") is True:
        return
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description") or "")
    if code == 429:
        parameters = answer.get("parameters") or {}
        raise RetryAfter(float(parameters.get("retry_after") or 1))
    if code == 403:
        raise Unreachable(description)
    raise BotApiError(code, description)
