"""WeChat Official Account (服务号): WeChat's callbacks in as :class:`Inbound`, rendered messages out within
WeChat's rules. wechatpy checks nothing for us in constant time, so signatures are computed with its signer
and compared here; it decrypts (safe mode) and parses; the API calls are :mod:`bot.channels.wechat_api`.

The callback (:meth:`WeChatChannel.callback`, served at ``/wechat``):
- GET: WeChat's URL check. A good ``signature`` answers exactly ``echostr``; anything else 403.
- POST: ``signature`` (and in safe mode ``msg_signature`` over the encrypted body) checked in constant time
  before anything else is read (403); a body that does not decrypt or parse is 400, and nothing is stored.
- What comes in (:func:`inbound_of`): text (``/…`` a command; a tap on a menu message, which comes back as
  text with ``bizmsgmenuid``, or a typed number, letter or words of the choices last shown: a button choice);
  ``subscribe`` (the welcome: ``/start``); ``unsubscribe`` (no turn: the account is marked unreachable);
  a custom-menu ``CLICK`` (:data:`MENU_KEYS`: ``/status``, ``/menu``, ``/legal``, talk to a person);
  ``SCAN`` or ``subscribe`` with a QR scene (a lender-staff invite: ``/start CODE``, as Telegram's deep link);
  an image (fetched by ``MediaId``, hashed: a FILE with Telegram's ``extra`` keys); anything else
  UNSUPPORTED (answered kindly). Idempotency keys: ``msg:<MsgId>``, or
  ``event:<openid>:<CreateTime>:<event>[:<EventKey>]``.
- The answer: WeChat waits 5 seconds. The request opens a *passive slot* for its sender, then runs the turn.
  When delivery sends that person a message within ``passive_budget`` seconds (the turn's messages, joined by
  delivery), the sender gives its first piece to the slot instead of calling the API; the request writes it
  as the passive reply and only then tells the sender it was answered, so delivery marks it sent. Otherwise
  the request answers ``success`` and the sender goes on through the customer-service API. A turn that could
  not be committed is a 500 (WeChat tries again, and that try is handled). WeChat's retries of one message are
  handled once: the same passive reply while it is remembered (:data:`REMEMBERED`), else ``success``.
  Before the turn, :meth:`storage.wechat.WeChatStore.wechat_seen` opens the person's 48-hour window and hands
  back what waited for them (``release``, set to ``delivery.submit``), so it arrives before the answer.
- Several processes may serve one account: a reply to a callback another process took (outbox key
  ``wechat:msg:…:n``) is left to it while it answers, and taken over only if it is still unsent
  :data:`TAKE_OVER_AFTER` seconds after this process first saw it (that process stopped; after a restart,
  the replies to callbacks taken before it go out with the minute's look at the outbox).

Going out (:meth:`WeChatChannel.send`, a :class:`bot.delivery.Sender`):
- Text is plain (tags dropped, entities unescaped, control characters shown not obeyed), split at paragraphs
  within 2,048 UTF-8 bytes (:func:`split_bytes`).
- Choices are numbered lines (``1. 同意``); a notice's case buttons arriving while a question waits (or a
  notice that waited for the person and comes before the answer to what they wrote) get letters (``a. …``),
  as in the terminal, so the numbers keep answering the question. Within the 48-hour window the choices also
  go as a ``msgmenu`` message the person can tap (its items read as the lines do; after a passive reply, a
  menu message of its own). What was shown is kept in the store (:class:`storage.wechat.WeChatStore`), so
  any process can tell what a typed ``2`` or a tap means.
- A document (``file_name``: the agreement, ``/mydata``) goes as text in numbered parts, then a note with
  its SHA-256 and how to get the file elsewhere (``templates/*/wechat/document_note.j2``).
- Outside the 48-hour window (or when WeChat says so: 45015, 45047), a template message of the message's
  kind (:func:`notice_kind`; ids from ``LOANBRIDGE_WECHAT_TEMPLATES``) tells the person to open the chat,
  and the message itself waits in the outbox until they write (then it is delivered); with no template for
  its kind (or one WeChat refuses) it waits all the same, counted for operators (``loanbridge wechat
  waiting``). Either way :class:`bot.delivery.NotYet` leaves the row unsent. The template message's fields:
  ``first`` (what waits), ``keyword1`` (its kind), ``keyword2`` (the local time), ``remark`` (open the chat).
- 43004 (unfollowed) raises :class:`bot.delivery.Unreachable`; 45009 (daily quota) holds every send for
  :data:`QUOTA_PAUSE` seconds and the message waits in the outbox for the next look; the token errors are
  retried once with a fresh token by the API client. Sends are paced per person and overall (``Pace``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bot.channels.telegram import Pace
from bot.channels.terminal import for_terminal
from bot.channels.wechat_api import (
    OUTSIDE_WINDOW,
    QUOTA,
    UNSUBSCRIBED,
    WeChatError,
)
from bot.delivery import NotYet, Unreachable
from bot.rendering import Rendered, RenderedButton, Renderer
from bot.typed_choices import TypedMatch, shown_marks, typed_match
from dialogs.domain import Account, Channel
from dialogs.locales import DEFAULT_LOCALE
from dialogs.messages import Inbound, InboundKind
from dialogs.ports import Clock
from storage.waiting import WaitingCount
from storage.wechat import SINCE_TYPED, WINDOW, Seen

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wechat"
MAX_BYTES = 2048  # passive replies and customer-service texts: bytes of UTF-8
PASSIVE_BUDGET = 3.0  # seconds a callback waits for the turn's reply before answering "success"
REMEMBERED = 2000  # passive replies kept for WeChat's retries of the same message
MAX_BODY = 256 * 1024  # a callback's XML is a few hundred bytes; images come by media id
MAX_MEDIA = 10 * 1024 * 1024
TAKE_OVER_AFTER = 30.0  # seconds before another process's unsent callback reply is sent from here
QUOTA_PAUSE = 60.0  # after 45009 (the day's quota), nothing is tried for this long
MENU_IDS_KEPT = 40  # menu-message ids remembered per person: a tap on an older menu is still understood
LETTERS = "abcdefgh"
GLOBAL = "g:"  # a case button that works at any step (dialogs.flows.casework.GLOBAL)
# The custom menu's keys and what each one means: a command, or a button choice that works at any step.
MENU_KEYS: dict[str, tuple[InboundKind, str]] = {
    "status": (InboundKind.COMMAND, "/status"),
    "case": (InboundKind.COMMAND, "/menu"),
    "legal": (InboundKind.COMMAND, "/legal"),
    "person": (InboundKind.CHOICE, "0.g:operator"),
}
SUCCESS = "success"
Handle = Callable[[Inbound], Awaitable[None]]


class Api(Protocol):
    """What the channel needs from :class:`bot.channels.wechat_api.WeChatApi` (a test may pass a fake)."""

    async def send_text(self, openid: str, text: str) -> None: ...

    async def send_menu(self, openid: str, head: str, choices: list[tuple[str, str]], tail: str) -> None: ...

    async def send_template(self, openid: str, template_id: str, data: dict[str, str]) -> None: ...

    async def download(self, media_id: str) -> bytes: ...


class Store(Protocol):
    """What the channel keeps in the store (:class:`storage.wechat.WeChatStore`)."""

    async def wechat_seen(self, openid: str, *, typed: bool = False, subscribed: bool = True) -> Seen: ...

    async def wechat_last_inbound(self, openid: str) -> datetime | None: ...

    async def update_wechat_choices(
        self, openid: str, change: Callable[[dict[str, Any] | None], dict[str, Any] | None]
    ) -> dict[str, Any] | None: ...

    async def wait_for_wechat_user(self, openid: str, keys: dict[str, str], *, notified: bool) -> None: ...

    async def mark_failed(self, key: str, error: str, *, give_up: bool) -> None: ...

    async def wechat_waiting(self) -> WaitingCount: ...


Release = Callable[[Sequence[Any]], None]  # delivery.submit: messages handed back when their person writes


@dataclass(frozen=True, slots=True)
class Credentials:
    app_id: str
    token: str  # the callback token (signatures), not the access token
    aes_key: str | None = None  # safe mode when set


# Splitting


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` bytes of UTF-8."""
    used = 0
    for index, char in enumerate(text):
        used += len(char.encode("utf-8"))
        if used > limit:
            return index
    return len(text)


def split_bytes(text: str, limit: int = MAX_BYTES) -> list[str]:
    """Pieces of at most ``limit`` bytes of UTF-8, cut at a paragraph, else a line, else a space (or after
    Chinese punctuation), else anywhere between characters."""
    pieces: list[str] = []
    rest = text.strip("\n ")
    while (size := _fitting(rest, limit)) < len(rest):
        window = rest[:size]
        cut = next((c for sep in ("\n\n", "\n") if (c := window.rfind(sep)) > size // 2), 0)
        if cut <= 0:
            cut = max(window.rfind(" "), *(window.rfind(p) + 1 for p in "。！？；，"))
            cut = cut if cut > size // 2 else size
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return [piece for piece in pieces if piece] or [""]


def wechat_text(rendered_html: str) -> str:
    """A rendered (HTML) text as WeChat shows it: plain, and unable to reorder or hide anything."""
    return for_terminal(rendered_html).strip()


# Choices


def _is_global(choice: str) -> bool:
    return choice.partition(".")[2].startswith(GLOBAL)


def _pairs(buttons: Sequence[RenderedButton]) -> list[list[str]]:
    return [[b.choice, b.label] for b in buttons]


def _buttons(pairs: Any) -> list[RenderedButton]:
    if not isinstance(pairs, list):
        return []
    return [RenderedButton(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


def shown_choices(
    state: dict[str, Any] | None,
    buttons: Sequence[RenderedButton],
    menu_ids: Mapping[str, str],
    *,
    aside: bool = False,
) -> tuple[dict[str, Any], str]:
    """The state after a message with ``buttons`` is shown (the terminal's rule: the latest question's
    choices since the person typed count; a notice's case buttons arriving meanwhile are lettered), and
    whether they are shown ``"numbered"`` or ``"lettered"``. ``aside``: a notice that waited for the person
    (outside the 48-hour window) and comes just before the answer to what they wrote: lettered too, so the
    numbers belong to that answer."""
    state = dict(state or {})
    since_typed = bool(state.get(SINCE_TYPED, True))
    style = "numbered"
    if buttons and (aside or not since_typed) and all(_is_global(b.choice) for b in buttons):
        state["aside"] = _pairs(buttons)
        style = "lettered"
    elif buttons or since_typed:
        state["numbered"], state[SINCE_TYPED] = _pairs(buttons), False
    if menu_ids:
        menus = {**(state.get("menus") or {}), **menu_ids}
        state["menus"] = dict(list(menus.items())[-MENU_IDS_KEPT:])
    return state, style


def pressed(state: dict[str, Any] | None, typed: str, menu_id: str | None) -> str | None:
    """The choice a tap on a menu message (``menu_id``) or a typed line presses, or None."""
    state = state or {}
    if menu_id:
        choice = (state.get("menus") or {}).get(menu_id)
        if isinstance(choice, str):
            return choice
    found = typed_in(state, typed).pressed
    return found.choice if found is not None else None


def typed_in(state: dict[str, Any] | None, typed: str) -> TypedMatch:
    """What a typed line means among the choices last shown: the numbered ones and the lettered ones of a
    notice beside them (its letter, or words that name one choice clearly)."""
    state = state or {}
    return typed_match(typed.strip(), _buttons(state.get("numbered")), _lettered(state))


def _lettered(state: dict[str, Any]) -> dict[str, RenderedButton]:
    return dict(zip(LETTERS, _buttons(state.get("aside")), strict=False))


def choice_lines(buttons: Sequence[RenderedButton], style: str) -> list[str]:
    marks = LETTERS if style == "lettered" else [str(n) for n in range(1, len(buttons) + 1)]
    return [f"{mark}. {wechat_text(b.label)}" for mark, b in zip(marks, buttons, strict=False)]


# Kinds of message, for template messages


def notice_kind(templates: Sequence[str]) -> str:
    """The kind of a message, as ``LOANBRIDGE_WECHAT_TEMPLATES`` names template ids: the most pressing of
    the templates a joined message carries (an offer over a reminder over anything else)."""
    names = " ".join(templates)
    if "broadcast" in names:
        return "broadcast"
    if re.search(r"offer|bid_|counter|accepted|rejected|agreement/", names):
        return "offer"
    if re.search(r"deadline|expire|extended|overdue", names):
        return "deadline"
    if re.search(r"remind|drafts/|instalment|payment", names):
        return "reminder"
    return "default"


# Callbacks


class Refused(Exception):
    """A callback WeChat did not sign (403) or that is not a message (400)."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


def signature_of(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass(slots=True)
class _Slot:
    """A callback waiting to answer its sender passively: the first piece delivery gives it, and whether
    the answer was then written."""

    openid: str
    offered: asyncio.Future[str]
    written: asyncio.Future[bool]


@dataclass(slots=True)
class _Answer:
    xml: str | None = None  # the passive reply, or None for "success"
    failed: bool = False  # the turn could not be handled (the callback answered 500)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class WeChatChannel:
    """Both directions of the WeChat channel; see the module docstring.

    ``release`` (set by the composition root to ``delivery.submit``) takes the messages that waited for a
    person when that person writes again.
    """

    joins_messages = True

    def __init__(
        self,
        credentials: Credentials,
        api: Api,
        store: Store,
        renderer: Renderer,
        *,
        templates: Mapping[str, str] | None = None,
        pace: Pace | None = None,
        passive_budget: float = PASSIVE_BUDGET,
        clock: Clock | None = None,
    ) -> None:
        self.credentials = credentials
        self.api = api
        self.store = store
        self.renderer = renderer
        self.templates = dict(templates or {})
        self.pace = pace or Pace(20.0, 1.0, 3)
        self.passive_budget = passive_budget
        self._clock = clock
        self.release: Release | None = None
        self._crypto = (
            WeChatCrypto(credentials.token, credentials.aes_key, credentials.app_id)
            if credentials.aes_key
            else None
        )
        self._slots: dict[str, deque[_Slot]] = {}
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._wrote: dict[str, datetime] = {}  # when people last wrote, as this process saw it
        self._released: set[str] = set()  # outbox keys handed back when their person wrote, not yet shown
        self._foreign: dict[str, float] = {}  # another process's callback replies: when first seen here
        self._paused_until = 0.0
        # What the callbacks did, for the benchmark and for operators' logs.
        self.passive_replies = 0
        self.success_replies = 0

    def now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    # In

    def callback(self, handle: Handle, path: str = CALLBACK_PATH) -> web.Application:
        """The callback endpoint as an aiohttp application (see the module docstring)."""

        async def receive(request: web.Request) -> web.StreamResponse:
            return await self._receive(request, handle)

        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(path, self._verify_url)
        app.router.add_post(path, receive)
        return app

    async def _verify_url(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        expected = signature_of(self.credentials.token, query.get("timestamp", ""), query.get("nonce", ""))
        if not _same(expected, query.get("signature", "")):
            return web.Response(status=403)
        return web.Response(text=query.get("echostr", ""))

    async def _receive(self, request: web.Request, handle: Handle) -> web.StreamResponse:
        try:
            message = await self._message(request)
        except Refused as refused:
            log.warning("wechat: a callback was refused (%s)", refused)
            return web.Response(status=refused.status)
        openid = str(message.source or "")
        key = message_key(message)
        if not openid or key is None:
            return self._text_response(request, SUCCESS)
        remembered = self._answers.get(key)
        if remembered is not None:  # WeChat trying again: answered once, the same way
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(remembered.done.wait(), self.passive_budget)
            if not remembered.failed:
                return self._reply(request, message, remembered.xml)
        answer = self._remember(key)
        try:
            return await self._answer(request, message, handle, answer)
        except BaseException:
            answer.failed = True  # not handled: WeChat's next try is handled again, not echoed
            raise
        finally:
            answer.done.set()

    async def _answer(
        self, request: web.Request, message: BaseMessage, handle: Handle, answer: _Answer
    ) -> web.StreamResponse:
        openid = str(message.source)
        if _event(message) == "unsubscribe":
            await self.store.wechat_seen(openid, subscribed=False)
            self._wrote.pop(openid, None)
            return self._text_response(request, SUCCESS)
        if not _answered_kind(message):
            return self._text_response(request, SUCCESS)  # WeChat's own notices: nothing to say
        deadline = asyncio.get_running_loop().time() + self.passive_budget
        seen = await self.store.wechat_seen(openid, typed=True)
        self._wrote[openid] = self.now()
        if seen.released and self.release is not None:
            self._released.update(item.key for item in seen.released)
            self.release(seen.released)  # first: what waited for them comes before the answer
        inbound = await inbound_of(message, seen.choices, self.api)
        slot = self._open_slot(openid)
        # Shielded from the request: a turn under way finishes even if WeChat hangs up.
        turn = asyncio.ensure_future(handle(inbound))
        turn.add_done_callback(_finished_late)
        try:
            offered = await self._first_offer(slot, turn, deadline)
        except BaseException:
            self._close_slot(slot, answered=False)
            raise
        if offered is None:
            self._close_slot(slot, answered=False)
            self.success_replies += 1
            # A slow turn goes on: its replies go through the customer-service API.
            return self._text_response(request, SUCCESS)
        self._close_slot(slot, answered=None)
        xml = TextReply(source=message.target, target=openid, content=_cdata_safe(offered)).render()
        try:
            response = await self._write(request, xml)
        except BaseException:
            slot.written.set_result(False)  # not answered: the sender sends it another way
            raise
        slot.written.set_result(True)
        answer.xml = xml
        self.passive_replies += 1
        return response

    async def _first_offer(self, slot: _Slot, turn: asyncio.Future[None], deadline: float) -> str | None:
        """The first piece delivery offers this callback before ``deadline``, or None. A turn that fails
        raises (a 500: WeChat sends the message again)."""
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Future[Any]] = {slot.offered, turn}
        while not slot.offered.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            done, _ = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            if turn in done:
                turn.result()  # raises when the turn failed
                pending.discard(turn)
            if not done:
                return None
        return slot.offered.result()

    async def _message(self, request: web.Request) -> BaseMessage:
        """The callback's message, signatures checked first (403), then decrypted and parsed (400)."""
        query = request.query
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        token = self.credentials.token
        if not _same(signature_of(token, timestamp, nonce), query.get("signature", "")):
            raise Refused(403, "bad signature")
        body = await request.read()
        try:
            xml = body.decode("utf-8")
            if self._crypto is not None:
                xml = self._decrypted(xml, timestamp, nonce, query.get("msg_signature", ""))
            message = parse_message(xml)
        except Refused:
            raise
        except Exception as error:  # expat, a missing field, bad base64 or padding: all just "not a message"
            raise Refused(400, f"not a message ({type(error).__name__})") from None
        if message is None:
            raise Refused(400, "empty body")
        return message

    def _decrypted(self, xml: str, timestamp: str, nonce: str, msg_signature: str) -> str:
        import xmltodict  # noqa: PLC0415 - wechatpy's own parser, only needed in safe mode

        encrypted = xmltodict.parse(xml)["xml"]["Encrypt"]
        if not isinstance(encrypted, str):
            raise ValueError("no Encrypt element")
        expected = signature_of(self.credentials.token, timestamp, nonce, encrypted)
        if not _same(expected, msg_signature):
            raise Refused(403, "bad msg_signature")
        assert self._crypto is not None  # noqa: S101 - only called in safe mode
        return str(self._crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce))

    def _reply(self, request: web.Request, message: BaseMessage, xml: str | None) -> web.Response:
        if xml is None:
            return self._text_response(request, SUCCESS)
        return web.Response(text=self._sealed(request, xml), content_type="application/xml")

    async def _write(self, request: web.Request, xml: str) -> web.StreamResponse:
        """Write the passive reply now, so the sender learns it went (the connection took it)."""
        response = web.StreamResponse(headers={"Content-Type": "application/xml; charset=utf-8"})
        body = self._sealed(request, xml).encode()
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    def _sealed(self, request: web.Request, xml: str) -> str:
        if self._crypto is None:
            return xml
        nonce = request.query.get("nonce") or secrets.token_hex(8)
        return str(self._crypto.encrypt_message(xml, nonce, str(int(time.time()))))

    def _text_response(self, request: web.Request, text: str) -> web.Response:
        return web.Response(text=text)

    def _remember(self, key: str) -> _Answer:
        answer = self._answers[key] = _Answer()
        while len(self._answers) > REMEMBERED:
            self._answers.popitem(last=False)
        return answer

    def _open_slot(self, openid: str) -> _Slot:
        loop = asyncio.get_running_loop()
        slot = _Slot(openid, loop.create_future(), loop.create_future())
        self._slots.setdefault(openid, deque()).append(slot)
        return slot

    def _close_slot(self, slot: _Slot, *, answered: bool | None) -> None:
        """No more offers to this slot. ``answered=False``: a sender that offered meanwhile (after the
        deadline passed) is told to send another way; None: the offer is being answered."""
        slots = self._slots.get(slot.openid)
        if slots is not None and slot in slots:
            slots.remove(slot)
            if not slots:
                del self._slots[slot.openid]
        if not slot.offered.done():
            slot.offered.cancel()
        if answered is False and not slot.written.done():
            slot.written.set_result(False)

    def _take_slot(self, openid: str) -> _Slot | None:
        """The oldest callback of ``openid`` still waiting to answer, taken (it answers only once)."""
        slots = self._slots.get(openid)
        while slots:
            slot = slots.popleft()
            if not slot.offered.done():
                if not slots:
                    del self._slots[openid]
                return slot
        self._slots.pop(openid, None)
        return None

    # Out

    def serves(self, recipient: Account) -> bool:
        return recipient.channel is Channel.WECHAT

    async def send(self, recipient: Account, message: Rendered) -> None:
        openid = recipient.channel_user_id
        if time.monotonic() < self._paused_until:
            raise NotYet("wechat: the day's quota was reached; trying again later")
        if self._anothers(message.keys):
            raise NotYet("wechat: a reply to a callback another process took; it sends it")
        pieces, text_pieces, choices = await self._compose(recipient, message)
        slot = self._take_slot(openid)
        if slot is not None:
            slot.offered.set_result(pieces[0])
            if await slot.written:  # answered passively: the rest (if any) by customer-service API
                rest = pieces[1:]
                if rest:
                    await self._deliver_or_wait(recipient, message, lambda: self._texts(openid, rest))
                await self._menu_after_passive(recipient, choices)
                return
        if not choices:
            await self._deliver_or_wait(recipient, message, lambda: self._texts(openid, pieces))
            return
        tail = self._label_text(recipient, "wechat/menu_tail")
        await self._deliver_or_wait(
            recipient, message, lambda: self._with_menu(openid, text_pieces, choices, tail)
        )

    def _anothers(self, keys: Sequence[str]) -> bool:
        """Whether these are replies to a callback another process took (several serve one account): that
        process sends them, mostly in its HTTP answer, and records them sent a moment later; this one saw
        them in the outbox meanwhile. It takes them over only if they are still unsent
        :data:`TAKE_OVER_AFTER` seconds after it first saw them (that process stopped)."""
        callbacks = [_callback_key(key) for key in keys]
        if not keys or any(k is None or k in self._answers for k in callbacks):
            return False
        if self._released.intersection(keys):
            return False
        now = time.monotonic()
        if len(self._foreign) > REMEMBERED * 5:
            self._foreign = {k: t for k, t in self._foreign.items() if now - t < TAKE_OVER_AFTER * 4}
        first = min(self._foreign.setdefault(key, now) for key in keys)
        return now - first < TAKE_OVER_AFTER

    async def _compose(
        self, recipient: Account, message: Rendered
    ) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """(the pieces with the choices as lines, the pieces of the text alone, the menu choices as
        (menu id, words)), the choices recorded as shown."""
        if message.file_name:
            pieces = self._document(recipient, message)
            return pieces, pieces, []
        menu = [(_menu_id(n), b.choice) for n, b in enumerate(message.buttons, 1)]
        released = bool(self._released.intersection(message.keys))
        self._released.difference_update(message.keys)
        style = await self._show(recipient.channel_user_id, message.buttons, dict(menu), aside=released)
        lines = choice_lines(message.buttons, style)
        text = wechat_text(message.text)
        choices = [(menu_id, line) for (menu_id, _), line in zip(menu, lines, strict=True)]
        return split_bytes("\n".join([text, *lines])), split_bytes(text), choices

    async def _deliver_or_wait(
        self, recipient: Account, message: Rendered, send: Callable[[], Awaitable[None]]
    ) -> None:
        """Customer-service messages within the window; else a template message and the message waits."""
        if await self._in_window(recipient.channel_user_id):
            try:
                await send()
                return
            except WeChatError as error:
                if error.errcode not in (OUTSIDE_WINDOW, 45047):
                    await self._refused(message, error)
                    raise
                log.info("wechat: %s refused a customer-service message; the template path", error.errcode)
        await self._wait_for_person(recipient, message)

    async def _texts(self, openid: str, pieces: Sequence[str]) -> None:
        chat = _chat_number(openid)
        for piece in pieces:
            await self._paced(chat, lambda p=piece: self.api.send_text(openid, p))

    async def _with_menu(
        self, openid: str, pieces: Sequence[str], choices: list[tuple[str, str]], tail: str
    ) -> None:
        """The text, its last part heading a menu message of the choices (to tap, or to type a number)."""
        *before, last = pieces
        if utf8_length("\n".join([last, *(words for _, words in choices), tail])) > MAX_BYTES:
            before, last = [*before, last], ""
        await self._texts(openid, before)
        await self._paced(_chat_number(openid), lambda: self.api.send_menu(openid, last, choices, tail))

    async def _menu_after_passive(self, recipient: Account, choices: list[tuple[str, str]]) -> None:
        """After a passive reply with choices: the same choices as a menu message to tap. The reply already
        lists them, so a refusal here loses nothing (logged, not retried)."""
        if not choices:
            return
        openid = recipient.channel_user_id
        head = self._label_text(recipient, "wechat/menu_again")
        try:
            await self._paced(_chat_number(openid), lambda: self.api.send_menu(openid, head, choices, ""))
        except Exception as error:
            log.info("wechat: the menu after a passive reply did not go (%s)", _why(error))

    async def _show(
        self, openid: str, buttons: Sequence[RenderedButton], menu_ids: dict[str, str], *, aside: bool = False
    ) -> str:
        """Record what the person is shown (before they can see it), and how: numbered or lettered."""
        style = "numbered"

        def change(state: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal style
            if not buttons and state is not None and not state.get(SINCE_TYPED, True):
                return state  # a plain message after the question: the question's choices still count
            updated, style = shown_choices(state, buttons, menu_ids, aside=aside)
            return updated

        await self.store.update_wechat_choices(openid, change)
        return style

    async def _in_window(self, openid: str) -> bool:
        now = self.now()
        wrote = self._wrote.get(openid)
        if wrote is None or now - wrote >= WINDOW:
            wrote = await self.store.wechat_last_inbound(openid)
        return wrote is not None and now - wrote < WINDOW

    async def _wait_for_person(self, recipient: Account, message: Rendered) -> None:
        """Outside the window: a template message (when one is configured for the kind) and the message
        waits in the outbox until the person writes; recorded either way (:class:`NotYet`)."""
        openid = recipient.channel_user_id
        kind = notice_kind(message.templates)
        template_id = self.templates.get(kind) or self.templates.get("default")
        keys = dict(zip(message.keys, message.templates, strict=False))
        notified = False
        if template_id:
            data = self._notice(recipient, kind)
            try:
                await self._paced(
                    _chat_number(openid), lambda: self.api.send_template(openid, template_id, data)
                )
                notified = True
            except WeChatError as error:
                await self._refused(message, error)
                # A template WeChat will not take (a wrong id, say): the message waits all the same,
                # counted as not told, rather than being retried into a give-up.
                log.warning("wechat: the %s template message was refused (%s)", kind, error.errcode)
        await self.store.wait_for_wechat_user(openid, keys, notified=notified)
        how = "told by a template message" if notified else "no template for its kind"
        raise NotYet(f"wechat: waiting for the person to write ({kind}, {how})")

    async def _refused(self, message: Rendered, error: WeChatError) -> None:
        """What a refusal means beyond this message: unfollowed → unreachable; a quota → pause and wait."""
        if error.errcode in UNSUBSCRIBED:
            raise Unreachable(str(error)) from error
        if error.errcode in QUOTA:
            self._paused_until = time.monotonic() + QUOTA_PAUSE
            for key in message.keys:
                with contextlib.suppress(Exception):
                    await self.store.mark_failed(key, f"wechat quota {error.errcode}", give_up=False)
            log.warning("wechat: quota reached (%s); sends paused %.0f s", error.errcode, QUOTA_PAUSE)
            raise NotYet(str(error)) from error

    def _notice(self, recipient: Account, kind: str) -> dict[str, str]:
        """A template message's fields: what waits, and to open the chat to read it."""
        context = {"notice_kind": kind}
        local = self.now().astimezone(ZoneInfo(recipient.time_zone))
        return {
            "first": self._label_text(recipient, "wechat/notice_title", context),
            "keyword1": self._label_text(recipient, "wechat/notice_kind", context),
            "keyword2": local.strftime("%Y-%m-%d %H:%M"),
            "remark": self._label_text(recipient, "wechat/notice_remark", context),
        }

    def _document(self, recipient: Account, message: Rendered) -> list[str]:
        """A document as text in parts (each within the limit), then how to get the file itself."""
        digest = hashlib.sha256(html.unescape(message.text).encode()).hexdigest()
        name = wechat_text(message.file_name or "")
        parts = split_bytes(wechat_text(message.text), MAX_BYTES - 200)
        headed = [f"【{name} {n}/{len(parts)}】\n{part}" for n, part in enumerate(parts, 1)]
        note = self._label_text(
            recipient, "wechat/document_note", {"file_name": name, "hash": digest, "parts": len(parts)}
        )
        return [*headed, *split_bytes(note)]

    def _label_text(self, recipient: Account, template: str, context: dict[str, Any] | None = None) -> str:
        locale = recipient.locale or DEFAULT_LOCALE
        return self.renderer.document(template, dict(context or {}), locale, recipient.time_zone)

    async def _paced(self, chat: int, call: Callable[[], Awaitable[None]]) -> None:
        await self.pace.turn(chat)
        await call()

    async def waiting(self) -> WaitingCount:
        """How many messages wait for their person to write (for operators)."""
        return await self.store.wechat_waiting()


def _callback_key(outbox_key: str) -> str | None:
    """The callback a reply answers (``msg:…`` or ``event:…``), from its outbox key ``wechat:<key>:<n>``;
    None for anything else (a notification, a scheduled message)."""
    channel, _, rest = outbox_key.partition(":")
    key, _, number = rest.rpartition(":")
    if channel != Channel.WECHAT.value or not number.isdigit() or not key.startswith(("msg:", "event:")):
        return None
    return key


def _cdata_safe(text: str) -> str:
    """Text for wechatpy's CDATA sections, which it does not escape: a "]]>" the person wrote (echoed in a
    summary) would end the section and break the XML; split across two sections it reads the same."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def _finished_late(turn: asyncio.Future[None]) -> None:
    """A turn that failed after its callback answered ``success`` (it was too slow to wait for) is logged
    here, since nobody awaits it any more; one that could not be committed is a dead letter already (the
    guard around ``handle`` records those), anything else is only in this log."""
    error = None if turn.cancelled() else turn.exception()
    if error is not None:
        log.error("wechat: a turn failed after its callback was answered (%s)", type(error).__name__)


def _menu_id(number: int) -> str:
    """A menu choice's id: random (a tap on any earlier menu stays distinct), ending in its number."""
    return f"{secrets.randbelow(10**9):09d}{number}"


def _why(error: BaseException) -> str:
    return str(error.errcode) if isinstance(error, WeChatError) else type(error).__name__


def _chat_number(openid: str) -> int:
    return int.from_bytes(hashlib.blake2b(openid.encode(), digest_size=8).digest(), "big")


# Messages in


def _event(message: BaseMessage) -> str:
    """The event's name (``subscribe_scan`` for a follow through a QR code), or "" for a message."""
    if str(message._data.get("MsgType") or "").lower() != "event":
        return ""
    return str(message._data.get("Event") or "").lower()


def _answered_kind(message: BaseMessage) -> bool:
    """Whether a message starts a turn: everything people send, and the events they cause by hand."""
    if not _event(message):
        return True
    return _event(message) in ("subscribe", "subscribe_scan", "scan", "click")


def message_key(message: BaseMessage) -> str | None:
    """The idempotency key: ``msg:<MsgId>``, or ``event:<openid>:<CreateTime>:<event>[:<EventKey>]``.

    The EventKey tells apart two menu items tapped within one second; WeChat's retries repeat it."""
    if _event(message):
        created = message._data.get("CreateTime")
        what = str(message._data.get("EventKey") or "")[:64]
        return (
            f"event:{message.source}:{created}:{_event(message)}{':' + what if what else ''}"
            if created
            else None
        )
    msg_id = message._data.get("MsgId")
    return f"msg:{msg_id}" if msg_id else None


async def inbound_of(message: BaseMessage, choices: dict[str, Any] | None, api: Api) -> Inbound:
    """A WeChat message or event in the core's terms (see the module docstring)."""
    openid, key, event = str(message.source), message_key(message) or "", _event(message)

    def inbound(kind: InboundKind, payload: str = "", extra: dict[str, Any] | None = None) -> Inbound:
        return Inbound(Channel.WECHAT, openid, openid, key, kind, payload, "zh_CN", extra or {})

    if message.type == "text":
        return inbound(*_text(message, choices))
    if message.type == "image":
        return inbound(InboundKind.FILE, extra=await _image(str(message._data.get("MediaId") or ""), api))
    if event in ("subscribe", "subscribe_scan", "scan"):
        scene = str(message._data.get("EventKey") or "").removeprefix("qrscene_").strip()
        return inbound(InboundKind.COMMAND, f"/start {scene}" if scene and event != "subscribe" else "/start")
    if event == "click":
        return inbound(
            *MENU_KEYS.get(str(message._data.get("EventKey") or ""), (InboundKind.UNSUPPORTED, ""))
        )
    return inbound(InboundKind.UNSUPPORTED)


def _text(
    message: BaseMessage, choices: dict[str, Any] | None
) -> tuple[InboundKind, str, dict[str, Any] | None]:
    """A command, a choice (a tap on a menu message, or typed: marked so, as the terminal does, for the
    dialogs ask once more before a typed choice decides a payment), or text."""
    text = str(message._data.get("Content") or "")
    if text.strip().startswith("/"):
        return InboundKind.COMMAND, text.strip(), None
    menu_id = message._data.get("bizmsgmenuid")
    choice = pressed(choices, text, str(menu_id) if menu_id else None)
    if choice is not None:
        return InboundKind.CHOICE, choice, None if menu_id else {"typed": True}
    # Not a choice: what a "choose one of the options" refusal lists again, should the step want a choice
    return InboundKind.TEXT, text, shown_marks(typed_in(choices, text), _lettered(choices or {})) or None


async def _image(media_id: str, api: Api) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "name": "photo.jpg",
        "mime": "image/jpeg",
        "ref": f"wechat:{media_id}",
        "size": 0,
    }
    if not media_id:
        return facts | {"sha256": ""}
    try:
        content = await api.download(media_id)
    except Exception as error:  # an image WeChat cannot give us: the person is asked to send it again
        log.warning("wechat: an image could not be downloaded (%s)", type(error).__name__)
        return facts | {"sha256": ""}
    if len(content) > MAX_MEDIA:
        return facts | {"size": len(content), "sha256": "0" * 64}
    return facts | {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
