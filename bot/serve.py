"""`loanbridge serve`: the configured channels, delivery and the scheduler in one process, until SIGTERM.

A channel is on when its credentials are set; either alone is enough, and both may run in one process.
Telegram: long polling unless ``LOANBRIDGE_TELEGRAM_WEBHOOK_URL`` is set; then the URL is registered with
setWebhook (with the secret) and its path is served on ``LOANBRIDGE_TELEGRAM_WEBHOOK_LISTEN``. WeChat: when
``LOANBRIDGE_WECHAT_APP_ID``, ``_APP_SECRET`` and ``_TOKEN`` are set, the callback ``/wechat`` is served on
``LOANBRIDGE_WECHAT_LISTEN`` (safe mode with ``_AES_KEY``), the API at ``_API_URL`` (see
:mod:`bot.channels.wechat`). On SIGTERM or SIGINT the process stops taking updates, finishes the ones in hand
and sends what they committed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

from aiohttp import web

from bot.app import App, build_app, build_store
from bot.broadcasting import Broadcaster, Talking
from bot.channels.telegram import BotApi, Pace, TelegramChannel
from bot.channels.telegram_bulk import BulkApi
from bot.dead_letters import DeadLetters
from bot.delivery import Sender
from bot.settings import Settings, SettingsError
from dialogs.domain import Channel
from dialogs.messages import Inbound
from dialogs.ports import Clock, CodeSender, SystemClock
from dialogs.rules.conduct import SendWindow
from storage.store import SqlStore

if TYPE_CHECKING:
    from bot.channels.wechat import WeChatChannel
    from bot.channels.wechat_api import WeChatApi

log = logging.getLogger(__name__)


NO_CHANNEL = (
    "LOANBRIDGE_TELEGRAM_TOKEN: not set, and no other channel is configured "
    "(or set LOANBRIDGE_WECHAT_APP_ID, LOANBRIDGE_WECHAT_APP_SECRET and LOANBRIDGE_WECHAT_TOKEN)"
)


@dataclass(frozen=True, slots=True)
class WeChatSettings:
    app_id: str
    app_secret: str
    token: str
    aes_key: str | None
    host: str
    port: int


def wechat_settings(settings: Settings) -> WeChatSettings | None:
    """WeChat's settings when any is set (None: WeChat is off); one clear line naming what is missing."""
    secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
    token = settings.wechat_token.get_secret_value() if settings.wechat_token else ""
    given = {"APP_ID": settings.wechat_app_id or "", "APP_SECRET": secret, "TOKEN": token}
    if not any(value.strip() for value in given.values()):
        return None
    for name, value in given.items():
        if not value.strip():
            raise SettingsError(
                f"LOANBRIDGE_WECHAT_{name}: required to serve WeChat (the other settings are set)"
            )
    if not settings.wechat_listen:
        raise SettingsError("LOANBRIDGE_WECHAT_LISTEN: required to serve WeChat's callback (host:port)")
    host, _, port = settings.wechat_listen.rpartition(":")
    aes_key = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None
    return WeChatSettings(given["APP_ID"].strip(), secret, token, aes_key, host, int(port))


def wechat_channel(
    settings: Settings, config: WeChatSettings, store: SqlStore, clock: Clock
) -> tuple[WeChatChannel, WeChatApi]:
    """The WeChat channel and its API client, both on the shared store (the token, the windows)."""
    from bot.channels.wechat import Credentials, WeChatChannel  # noqa: PLC0415 - only when WeChat is on
    from bot.channels.wechat_api import WeChatApi  # noqa: PLC0415 - as above
    from bot.rendering import Renderer  # noqa: PLC0415 - as above

    api = WeChatApi(config.app_id, config.app_secret, store, clock, settings.wechat_api_url)
    channel = WeChatChannel(
        Credentials(config.app_id, config.token, config.aes_key),
        api,
        store,
        Renderer(),
        templates=settings.wechat_template_ids,
        pace=Pace(settings.wechat_rate, settings.wechat_user_rate),
        passive_budget=settings.wechat_reply_budget,
        clock=clock,
    )
    return channel, api


def telegram_api(settings: Settings) -> BotApi:
    if settings.telegram_token is None:
        raise SettingsError(NO_CHANNEL)
    token = settings.telegram_token.get_secret_value()
    if settings.telegram_lib == "aiogram":
        from bot.channels.telegram_aiogram import AiogramApi  # noqa: PLC0415 - only the chosen library loads

        return AiogramApi(token, settings.telegram_api_url)
    from bot.channels.telegram_ptb import PtbApi  # noqa: PLC0415 - as above

    return PtbApi(token, settings.telegram_api_url)


class Client(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...


def telegram_channel(settings: Settings, api: BotApi | None) -> tuple[TelegramChannel, list[Client]]:
    """The channel and its API clients to start. Broadcasts get their own client (the library costs too
    much CPU a call at their rate), unless the API is given (a test's), which then serves both."""
    pace = Pace(settings.telegram_rate, settings.telegram_chat_rate)
    if api is not None:
        return TelegramChannel(api, pace), [api]
    api = telegram_api(settings)
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    bulk = BulkApi(token, settings.telegram_api_url)
    return TelegramChannel(api, pace, bulk=bulk), [api, bulk]


def webhook_settings(settings: Settings) -> tuple[str, str, int, str] | None:
    """(url, host, port, secret) in webhook mode, ``None`` for polling; one clear line when incomplete."""
    url = settings.telegram_webhook_url
    if not url:
        return None
    if not settings.telegram_webhook_listen:
        raise SettingsError("LOANBRIDGE_TELEGRAM_WEBHOOK_LISTEN: required with a webhook URL (host:port)")
    if settings.telegram_webhook_secret is None:
        raise SettingsError("LOANBRIDGE_TELEGRAM_WEBHOOK_SECRET: required with a webhook URL")
    host, _, port = settings.telegram_webhook_listen.rpartition(":")
    return url, host, int(port), settings.telegram_webhook_secret.get_secret_value()


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    code_sender: CodeSender | None = None,
    clock: Clock | None = None,
    api: BotApi | None = None,
    ready: asyncio.Future[App] | None = None,
) -> App:
    """Run until ``stop`` is set (by SIGTERM/SIGINT when not given); ``ready`` gets the app once it serves."""
    wechat = wechat_settings(settings)
    telegram_on = api is not None or settings.telegram_token is not None
    if not telegram_on and wechat is None:
        raise SettingsError(NO_CHANNEL)
    webhook = webhook_settings(settings) if telegram_on else None
    stop = stop or _stop_on_signals()
    clock = clock or SystemClock()
    senders: dict[Channel, Sender] = {}
    channel: TelegramChannel | None = None
    clients: list[Client] = []
    if telegram_on:
        channel, clients = telegram_channel(settings, api)
        senders[Channel.TELEGRAM] = channel
    store = build_store(settings, clock, signs=True)
    wx: WeChatChannel | None = None
    wx_api: WeChatApi | None = None
    if wechat is not None:
        wx, wx_api = wechat_channel(settings, wechat, store, clock)
        senders[Channel.WECHAT] = wx
    app = build_app(
        settings,
        senders,
        code_sender=code_sender,
        clock=clock,
        store=store,
        scheduled=settings.run_scheduler,  # off when a separate `loanbridge scheduler` runs the jobs
    )
    # One message that cannot be committed is given up on after a few attempts, not retried for ever.
    handle = DeadLetters(app.store, app.delivery).guard(app.engine.handle)
    talking = Talking(app.delivery)  # broadcasts wait while anyone's turn or reply is under way
    handle = talking.guard(handle)
    # Closed in reverse: stop taking updates, then deliver what they committed, then close the API clients.
    async with AsyncExitStack() as stack:
        for client in clients:
            await client.start()
            stack.push_async_callback(client.close)
        if wx_api is not None:
            await wx_api.start()
            stack.push_async_callback(wx_api.close)
        await stack.enter_async_context(app.running())
        # Broadcasts go out beside delivery, on the same channels and paces (replies first).
        await stack.enter_async_context(
            Broadcaster(
                app.store,
                app.renderer,
                senders,
                submit=app.delivery.submit,
                window=SendWindow(settings.send_window_start, settings.send_window_end),
                replying=talking.busy,
            ).running()
        )
        if channel is not None:
            await _serve_telegram(settings, stack, channel, channel.api, handle, stop, webhook)
        if wx is not None and wechat is not None:
            wx.release = app.delivery.submit
            retried = await app.store.retry_unnotified_wechat()
            if retried:
                log.info("wechat: %s waiting messages are tried again (templates may have changed)", retried)
            runner = web.AppRunner(wx.callback(handle))
            await runner.setup()
            stack.push_async_callback(runner.cleanup)  # waits for requests in hand
            await web.TCPSite(runner, wechat.host, wechat.port).start()
            log.info("wechat: callback on %s:%s/wechat%s", wechat.host, wechat.port, _safe_mode(wechat))
        _freeze_startup_objects()
        if ready is not None:
            ready.set_result(app)
        await stop.wait()
        log.info("stopping: finishing the updates in hand")
    return app


def _freeze_startup_objects() -> None:
    """What start-up made (modules, templates, the ORM's mappers) lives as long as the process: kept out
    of the garbage collector's full passes, which otherwise stop the loop for 50-100 ms every few seconds
    under load and cost a broadcast its pace."""
    gc.collect()
    gc.freeze()


def _safe_mode(config: WeChatSettings) -> str:
    return " (safe mode)" if config.aes_key else ""


async def _serve_telegram(
    settings: Settings,
    stack: AsyncExitStack,
    channel: TelegramChannel,
    api: BotApi,
    handle: Callable[[Inbound], Awaitable[None]],
    stop: asyncio.Event,
    webhook: tuple[str, str, int, str] | None,
) -> None:
    if webhook is None:
        polling = asyncio.create_task(channel.poll(handle, stop), name="telegram-polling")
        stack.push_async_callback(lambda: polling)  # finished: the batch in hand is handled first
        log.info("telegram: polling (%s)", settings.telegram_lib)
        return
    url, host, port, secret = webhook
    runner = web.AppRunner(channel.webhook(handle, urlparse(url).path, secret))
    await runner.setup()
    stack.push_async_callback(runner.cleanup)  # waits for requests in hand
    await web.TCPSite(runner, host, port).start()
    await api.set_webhook(url, secret)
    log.info("telegram: webhook on %s:%s (%s)", host, port, settings.telegram_lib)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    return stop
