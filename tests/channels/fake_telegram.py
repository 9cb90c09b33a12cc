"""A Bot API server on 127.0.0.1 that speaks the real protocol (aiohttp): the methods the product uses,
form-encoded, multipart or JSON bodies (nested fields such as ``reply_markup`` arrive as JSON strings), long
polling, file downloads; it records every call and can answer a chat with a 429 or a 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-abcdefghijklmnopqrstuvwxyz0123456"
_SENDS = frozenset({"sendMessage", "sendDocument"})  # what the overall rate limit counts
BOT = {"id": 123456, "is_bot": True, "first_name": "LoanBridge", "username": "loanbridge_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeTelegram:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    webhook: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    acknowledged: int = 0  # the highest update_id a getUpdates offset has confirmed
    # Optional: the bot's overall limit, messages a second (a token bucket holding ``burst`` seconds of it);
    # a send above it is answered 429 and counted in ``too_many``, as Telegram does.
    rate_limit: float | None = None
    burst: float = 0.05
    too_many: int = 0
    _tokens: float = 0.0
    _filled_at: float = 0.0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _update_ids: Any = field(default_factory=lambda: itertools.count(1000))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
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

    # What users do

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._arrived.set()
        return update

    def user(self, user_id: int, language: str = "en") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": language}

    def message(self, user_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message": {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": self.user(user_id),
                **content,
            }
        }

    def text(self, user_id: int, text: str) -> dict[str, Any]:
        return self.push(self.text_update(user_id, text))

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        """A text message as an update, not yet sent (``push`` sends it)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": command}]
        return self.message(user_id, **content)

    def press(self, user_id: int, data: str) -> dict[str, Any]:
        return self.push(self.press_update(user_id, data))

    def press_update(self, user_id: int, data: str) -> dict[str, Any]:
        """A button press as an update, not yet sent."""
        return {
            "callback_query": {
                "id": str(next(self._ids)),
                "from": self.user(user_id),
                "chat_instance": "1",
                "data": data,
                "message": {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private"},
                },
            }
        }

    def contact(self, user_id: int, phone: str, owner: int) -> dict[str, Any]:
        contact = {"phone_number": phone, "first_name": "Somebody", "user_id": owner}
        return self.push(self.message(user_id, contact=contact))

    def photo(self, user_id: int, content: bytes) -> dict[str, Any]:
        file_id = f"photo{next(self._ids)}"
        self.files[file_id] = content
        size = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "width": 800,
            "height": 600,
            "file_size": len(content),
        }
        small = {**size, "file_id": "thumb", "file_unique_id": "thumb", "width": 90, "height": 60}
        return self.push(self.message(user_id, photo=[small, size]))

    # What the bot sent

    def sent(self, chat_id: int, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [
            c.params for c in self.calls if c.method == method and int(c.params.get("chat_id", 0)) == chat_id
        ]

    def texts(self, chat_id: int) -> list[str]:
        return [str(p["text"]) for p in self.sent(chat_id)]

    def buttons(self, chat_id: int) -> list[dict[str, str]]:
        """The inline buttons of the latest message to ``chat_id`` that had any."""
        return next(iter(self._keyboards(chat_id)), [])

    def _keyboards(self, chat_id: int) -> list[list[dict[str, str]]]:
        found = []
        for params in reversed(self.sent(chat_id)):
            markup = params.get("reply_markup") or {}
            rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
            if rows:
                found.append([button for row in rows for button in row])
        return found

    def data(self, chat_id: int, label: str) -> str:
        """The latest button whose label contains ``label``, in anything sent to ``chat_id``."""
        for keyboard in self._keyboards(chat_id):
            for button in keyboard:
                if label in button["text"]:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {label!r} in {[b['text'] for b in self.buttons(chat_id)]}")

    # The protocol

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        if method in _SENDS and not self._within_rate():  # refused: not a message the chat received
            self.too_many += 1
            return _error(429, "Too Many Requests: retry after 1", retry_after=1)
        self.calls.append(Call(method, params, time.monotonic()))
        chat = int(params.get("chat_id") or 0)
        if chat and self.failures.get(chat):
            status, retry_after = self.failures[chat].pop(0)
            if status == 429:
                return _error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
            return _error(status, "Forbidden: bot was blocked by the user")
        handler = getattr(self, "_" + method, None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return web.json_response({"ok": True, "result": await handler(params)})

    def _within_rate(self) -> bool:
        if self.rate_limit is None:
            return True
        now = time.monotonic()
        capacity = max(1.0, self.rate_limit * self.burst)
        if not self._filled_at:
            self._tokens, self._filled_at = capacity, now
        self._tokens = min(capacity, self._tokens + (now - self._filled_at) * self.rate_limit)
        self._filled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def _getMe(self, _params: dict[str, Any]) -> Any:  # noqa: N802 - Bot API method names
        return BOT

    async def _getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        offset = int(params.get("offset") or 0)
        self.acknowledged = max(self.acknowledged, offset - 1)
        timeout = min(float(params.get("timeout") or 0), 0.5)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        return [u for u in self.updates if u["update_id"] >= offset][:100]

    async def _sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._sent_message(params, text=params["text"])

    async def _sendDocument(self, params: dict[str, Any]) -> Any:  # noqa: N802
        document = params.get("document")
        return self._sent_message(
            params, document={"file_id": "doc", "file_unique_id": "doc", "file_size": len(document or b"")}
        )

    def _sent_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = int(params["chat_id"])
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            **content,
        }

    async def _answerCallbackQuery(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    async def _getFile(self, params: dict[str, Any]) -> Any:  # noqa: N802
        file_id = str(params["file_id"])
        content = self.files.get(file_id, b"")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(content),
            "file_path": f"photos/{file_id}.jpg",
        }

    async def _setWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = params
        return True

    async def _deleteWebhook(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = {}
        return True

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        if request.match_info["token"] != TOKEN or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="image/jpeg")


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    params: dict[str, Any] = {**request.query}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[name] = value.file.read()
            params[name + "_name"] = value.filename
            continue
        text = str(value)
        params[name] = json.loads(text) if text[:1] in "{[" else text
    for name, value in list(params.items()):  # aiogram names its upload "attach://<field>"
        if isinstance(value, str) and value.startswith("attach://"):
            field_name = value.removeprefix("attach://")
            params[name], params[name + "_name"] = params.pop(field_name), params.pop(field_name + "_name")
    return params


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
