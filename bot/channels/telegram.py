"""Telegram, whichever library talks to the Bot API: updates in (long polling or a webhook) become
:class:`Inbound`; rendered messages go out within Telegram's limits.

The libraries (``telegram_ptb``, ``telegram_aiogram``) are used as Bot API clients behind :class:`BotApi`;
the dialogs engine is the dispatcher, so both libraries run exactly the same flows. An update's
``update_id`` is its idempotency key: a redelivered update is answered and handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from bot.rendering import Rendered
from dialogs.domain import Account, Channel
from dialogs.messages import Inbound, InboundKind

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API's own limit for getFile
POLL_TIMEOUT = 25
SPARE_CATCH_UP = 0.012  # seconds of missed moments a background sender may make up at once
# A background send may take its moment this much early: the loop's timers wake in whole milliseconds, so
# a sender that always slept until its exact moment would lose most of a millisecond at every turn.
SPARE_EARLY = 0.001
# Background sends use at most this share of the bot's rate: the rest absorbs replies arriving between two
# of them and the network's jitter, so the server never sees a burst above its limit.
SPARE_SHARE = 0.99
# Broadcast sends in flight at once: enough to keep the rate with this much time for each to be answered,
# and no more, so a server that stalls and then reads what queued up still sees no burst above its rate.
IN_FLIGHT_SECONDS = 0.04
MIN_IN_FLIGHT = 8
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
Handle = Callable[[Inbound], Awaitable[None]]


class RetryAfter(Exception):
    """Telegram said "too many requests" for this chat: wait ``seconds`` before sending to it again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class OutgoingButton:
    label: str
    data: str


class BotApi(Protocol):
    """The Bot API methods the product uses, as a library offers them. Raises :class:`RetryAfter` on a 429,
    :class:`~bot.delivery.Unreachable` on a 403 (the user blocked the bot), anything else when transient."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[dict[str, Any]]: ...

    async def send_text(
        self, chat_id: int, text: str, buttons: list[OutgoingButton], contact_label: str | None
    ) -> None:
        """A message with inline buttons, or with a one-tap "share my phone number" keyboard."""
        ...

    async def send_document(self, chat_id: int, file_name: str, content: bytes, caption: str) -> None: ...

    async def answer_callback(self, callback_id: str) -> None: ...

    async def download(self, file_id: str) -> bytes: ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...


class TextApi(Protocol):
    """Only :meth:`BotApi.send_text`: what a broadcast needs (see :mod:`bot.channels.telegram_bulk`)."""

    async def send_text(
        self, chat_id: int, text: str, buttons: list[OutgoingButton], contact_label: str | None
    ) -> None: ...


def utf16_length(text: str) -> int:
    """Telegram's length of ``text``: UTF-16 code units, so a character outside the BMP (most emoji)
    counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units (never half an emoji)."""
    if len(text) * 2 <= limit or utf16_length(text) <= limit:  # nearly every message: counted in C
        return len(text)
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 code units (as Telegram counts), cut at a paragraph, else a
    line, else a space, else anywhere outside an HTML entity (``&amp;`` is never cut in two)."""
    pieces: list[str] = []
    rest = text
    while (size := _fitting(rest, limit)) < len(rest):
        window = rest[:size]
        cut = next((c for sep in ("\n\n", "\n", " ") if (c := window.rfind(sep)) > size // 2), 0)
        if cut <= 0:
            cut = size
            amp = window.rfind("&")
            if amp > size - 10 and ";" not in window[amp:]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


class Pace:
    """Telegram's sending limits: about ``per_second`` messages a second overall; per chat a burst of
    ``chat_burst`` (one reply's few messages go at once), then ``chat_per_second``; a chat told to wait (429
    ``retry_after``) waits alone."""

    def __init__(self, per_second: float = 30.0, chat_per_second: float = 1.0, chat_burst: int = 3) -> None:
        self.per_second = per_second
        self._gap = 1.0 / per_second
        self._chat_gap = 1.0 / chat_per_second
        self._tolerance = self._chat_gap * (chat_burst - 1)
        self._next_any = 0.0
        self._chats: dict[int, float] = {}
        self._spare = asyncio.Lock()  # one background sender waits for a free moment; the rest queue here
        self._catch_up = min(SPARE_CATCH_UP, self._gap * 25)
        self._early = min(SPARE_EARLY, self._gap / 2)
        self._spare_gap = self._gap / SPARE_SHARE

    async def turn(self, chat_id: int) -> None:
        """Wait until a message may go to ``chat_id``, and claim that moment."""
        now = time.monotonic()
        # GCRA: each chat has a theoretical arrival time that moves a gap per message; a message may go
        # up to a burst's worth of gaps ahead of it.
        theoretical = max(self._chats.get(chat_id, now), now)
        moment = max(now, self._next_any, theoretical - self._tolerance)
        self._next_any = moment + self._gap
        self._advance_chat(chat_id, now)
        if moment > now:
            await asyncio.sleep(moment - now)

    async def spare_turn(self, chat_id: int) -> None:
        """Like :meth:`turn`, for messages that must never delay a reply (a broadcast): it takes only a
        moment nobody has claimed, never one ahead, so a reply waits at most one gap behind it. A chat that
        must wait (told to by a 429) waits alone: the other background senders go on meanwhile."""
        while True:
            chat_wait = self._chat_moment(chat_id) - time.monotonic()
            if chat_wait > self._early:
                await asyncio.sleep(chat_wait)  # outside the queue
                continue
            async with self._spare:
                if await self._spare_moment(chat_id):
                    return

    async def _spare_moment(self, chat_id: int) -> bool:
        """Wait for the next moment nobody claimed and claim it; ``False`` when a reply to this chat took
        the chat's own moment meanwhile (then it waits outside the queue again)."""
        while True:
            now = time.monotonic()
            if self._chat_moment(chat_id) > now + self._early:
                return False
            if self._next_any <= now + self._early:
                # A moment missed while waking is caught up, but only a few gaps' worth (no burst).
                self._next_any = max(self._next_any, now - self._catch_up) + self._spare_gap
                self._advance_chat(chat_id, now)
                return True
            await asyncio.sleep(self._next_any - now)

    def _advance_chat(self, chat_id: int, now: float) -> None:
        """A message to ``chat_id`` took its moment: the chat's theoretical time moves a gap on."""
        self._chats[chat_id] = max(self._chats.get(chat_id, now), now) + self._chat_gap
        if len(self._chats) > 10_000:  # forget chats that are idle again (a broadcast meets many once)
            self._chats = {c: t for c, t in self._chats.items() if t > now}

    def _chat_moment(self, chat_id: int) -> float:
        """The earliest moment a message may go to ``chat_id`` under its own limit."""
        return self._chats.get(chat_id, 0.0) - self._tolerance

    def hold(self, chat_id: int, seconds: float) -> None:
        """Nothing to this chat for ``seconds``, then one message at a time again."""
        until = time.monotonic() + seconds + self._tolerance
        self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), until)


class TelegramChannel:
    """Both directions of the Telegram channel over one :class:`BotApi`."""

    # One turn's consecutive messages go as one (split again only past 4,096 characters): fewer bubbles
    # for the person, fewer calls against the per-chat limit.
    joins_messages = True

    def __init__(
        self,
        api: BotApi,
        pace: Pace | None = None,
        *,
        max_retry_after: float = 300.0,
        bulk: TextApi | None = None,
    ) -> None:
        self.api = api
        self.bulk = bulk or api  # broadcasts' text messages
        self.pace = pace or Pace()
        in_flight = max(MIN_IN_FLIGHT, int(self.pace.per_second * IN_FLIGHT_SECONDS))
        self._spare_slots = asyncio.Semaphore(in_flight)
        self.max_retry_after = max_retry_after
        self._offset: int | None = None

    # Out

    def serves(self, recipient: Account) -> bool:
        return recipient.channel is Channel.TELEGRAM

    async def send(self, recipient: Account, message: Rendered) -> None:
        await self._send(recipient, message, self.pace.turn, self.api)

    async def send_spare(self, recipient: Account, message: Rendered) -> None:
        """A message that gives way to replies (a broadcast): sent only in moments replies leave free."""
        async with self._spare_slots:
            await self._send(recipient, message, self.pace.spare_turn, self.bulk)

    async def _send(
        self,
        recipient: Account,
        message: Rendered,
        turn: Callable[[int], Awaitable[None]],
        texts: TextApi,
    ) -> None:
        chat_id = int(recipient.channel_user_id)
        if message.file_name:
            content = html.unescape(message.text).encode()
            name = message.file_name
            await self._paced(chat_id, lambda: self.api.send_document(chat_id, name, content, ""), turn)
            return
        buttons = [OutgoingButton(b.label, b.choice) for b in message.buttons if _fits(b.choice)]
        pieces = split_text(message.text)
        for number, piece in enumerate(pieces, start=1):
            last = number == len(pieces)  # the buttons belong under the end of the message
            shown = buttons if last else []
            contact = message.contact_label if message.request_contact and last else None
            await self._paced(
                chat_id, lambda p=piece, b=shown, c=contact: texts.send_text(chat_id, p, b, c), turn
            )

    async def _paced(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[None]],
        turn: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """One Bot API call within the limits; a 429 holds this chat (only) and the call is made again."""
        while True:
            await (turn or self.pace.turn)(chat_id)
            try:
                await call()
                return
            except RetryAfter as wait:
                if wait.seconds > self.max_retry_after:
                    raise
                log.info("telegram asked to wait %.1f s for one chat", wait.seconds)
                self.pace.hold(chat_id, wait.seconds)

    # In

    async def poll(self, handle: Handle, stop: asyncio.Event) -> None:
        """Long polling until ``stop`` is set: each batch is handled (and committed) before it is
        acknowledged, and a batch in hand is finished before polling ends."""
        await self.api.delete_webhook()
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.api.get_updates(self._offset, POLL_TIMEOUT))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()  # nothing fetched yet: Telegram keeps the updates for the next poll
                await asyncio.gather(fetch, return_exceptions=True)
                return
            try:
                updates = fetch.result()
            except Exception as error:  # the network comes back; polling must too
                log.warning("getUpdates failed (%s); retrying", type(error).__name__)
                await asyncio.sleep(1)
                continue
            outcomes = await asyncio.gather(
                *(self.handle_update(update, handle) for update in updates), return_exceptions=True
            )
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:
                # Not acknowledged: the batch comes again, and what did commit is recognised by its key.
                log.error("updates could not be handled (%s); retrying the batch", type(failed[0]).__name__)
                await asyncio.sleep(1)
                continue
            if updates:
                self._offset = max(int(u["update_id"]) for u in updates) + 1

    def webhook(self, handle: Handle, path: str, secret: str) -> web.Application:
        """The webhook endpoint: Telegram's secret-token header checked first (wrong or missing: 401,
        nothing handled); a 200 only once the update's turn has committed (else Telegram redelivers)."""

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401)
            try:
                update = await request.json()
            except ValueError:
                update = None
            if not isinstance(update, dict):
                # Telegram would redeliver anything but a 200, for a day: log it and answer.
                log.warning("ignored a webhook body that is not an update")
                return web.Response(status=200)
            await self.handle_update(update, handle)
            return web.Response(status=200)

        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(path or "/", receive)
        return app

    async def handle_update(self, update: dict[str, Any], handle: Handle) -> None:
        flaw = malformed(update)
        if flaw is not None:
            # Answered (200, or acknowledged by the next poll) and dropped: Telegram would only send it
            # again, and nobody can be answered at an address the update does not hold.
            log.warning("ignored malformed update %r: %s", update.get("update_id"), flaw)
            return
        callback = update.get("callback_query")
        # Stopping the button's spinner needs no answer from us: it runs beside the turn.
        spinner = asyncio.ensure_future(self.api.answer_callback(str(callback["id"]))) if callback else None
        try:
            inbound = await self.inbound(update)
            if inbound is not None:
                await handle(inbound)
        finally:
            if spinner is not None:
                with contextlib.suppress(Exception):
                    await spinner

    async def inbound(self, update: dict[str, Any]) -> Inbound | None:
        """An update in the core's terms, or ``None`` for updates the product does not use."""
        key = str(update.get("update_id", ""))
        callback = update.get("callback_query")
        if callback:
            user = callback.get("from") or {}
            chat = (callback.get("message") or {}).get("chat") or {"id": user.get("id")}
            return _inbound(key, user, chat, InboundKind.CHOICE, str(callback.get("data") or ""))
        message = update.get("message")
        if not message or not message.get("from") or (message.get("chat") or {}).get("type") != "private":
            return None
        user, chat = message["from"], message["chat"]
        if "text" in message:
            text = str(message["text"])
            kind = InboundKind.COMMAND if text.startswith("/") else InboundKind.TEXT
            return _inbound(key, user, chat, kind, text)
        if "contact" in message:
            contact = message["contact"]
            own = contact.get("user_id") == user.get("id")
            return _inbound(
                key, user, chat, InboundKind.CONTACT, str(contact.get("phone_number", "")), own=own
            )
        document = message.get("document") or (message.get("photo") or [None])[-1]
        if document:
            return _inbound(key, user, chat, InboundKind.FILE, "", **await self._file(document))
        return _inbound(key, user, chat, InboundKind.UNSUPPORTED, "")

    async def _file(self, document: dict[str, Any]) -> dict[str, Any]:
        size = int(document.get("file_size") or 0)
        facts: dict[str, Any] = {
            "name": document.get("file_name") or "photo.jpg",
            "mime": document.get("mime_type") or "image/jpeg",
            "ref": f"telegram:{document['file_id']}",
            "size": size,
        }
        if size > MAX_DOWNLOAD:
            return facts | {"sha256": "0" * 64}  # refused as too big by the flow, without downloading
        try:
            content = await self.api.download(str(document["file_id"]))
        except Exception as error:  # a file Telegram cannot give us: the person is asked to send it again
            log.warning("a file could not be downloaded (%s)", type(error).__name__)
            return facts | {"sha256": ""}
        return facts | {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def malformed(update: dict[str, Any]) -> str | None:
    """What is wrong with the parts of ``update`` the product reads, or ``None`` when they are sound."""
    if not _is_int(update.get("update_id")):
        return "update_id is not a number"
    if "callback_query" in update:
        return _bad_callback(update["callback_query"])
    if "message" in update:
        return _bad_message(update["message"])
    return None


def _bad_callback(callback: Any) -> str | None:
    if not isinstance(callback, dict):
        return "callback_query is not an object"
    if not isinstance(callback.get("id"), str) or not callback["id"]:
        return "callback_query has no id"
    if not isinstance(callback.get("data", ""), str):
        return "callback_query data is not text"
    message = callback.get("message")
    return _bad_user(callback.get("from")) or (_bad_chat(message) if message is not None else None)


def _bad_message(message: Any) -> str | None:
    if not isinstance(message, dict):
        return "message is not an object"
    if "from" in message and (flaw := _bad_user(message["from"])):
        return flaw
    if flaw := _bad_chat(message):
        return flaw
    if not isinstance(message.get("text", ""), str):
        return "text is not text"
    contact = message.get("contact", {})
    if not isinstance(contact, dict) or not isinstance(contact.get("phone_number", ""), str):
        return "contact is not a contact"
    photos = message.get("photo", [])
    files = [message.get("document", {}), *photos] if isinstance(photos, list) else [None]
    return next((flaw for f in files if (flaw := _bad_file(f))), None)


def _bad_user(user: Any) -> str | None:
    return None if isinstance(user, dict) and _is_int(user.get("id")) else "from.id is not a number"


def _bad_chat(message: Any) -> str | None:
    chat = message.get("chat") if isinstance(message, dict) else None
    return None if isinstance(chat, dict) and _is_int(chat.get("id")) else "chat.id is not a number"


def _bad_file(file: Any) -> str | None:
    if file == {}:
        return None
    if not isinstance(file, dict) or not isinstance(file.get("file_id"), str):
        return "a file without a file_id"
    size = file.get("file_size", 0)
    return None if _is_int(size) and size >= 0 else "file_size is not a number"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inbound(
    key: str, user: dict[str, Any], chat: dict[str, Any], kind: InboundKind, payload: str, **extra: Any
) -> Inbound:
    return Inbound(
        channel=Channel.TELEGRAM,
        user_id=str(user.get("id", "")),
        chat_id=str(chat.get("id", "")),
        key=key,
        kind=kind,
        payload=payload,
        locale_hint=user.get("language_code"),
        extra=extra,
    )


def _fits(data: str) -> bool:
    if len(data.encode()) <= MAX_CALLBACK_DATA:
        return True
    log.error("a button's data is over Telegram's 64 bytes and was left out: %r", data[:80])
    return False
