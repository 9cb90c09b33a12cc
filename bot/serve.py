"""`loanbridge serve`: the configured channels, delivery and the scheduler in one process, until SIGTERM.

Telegram: long polling unless ``LOANBRIDGE_TELEGRAM_WEBHOOK_URL`` is set; then the URL is registered with
setWebhook (with the secret) and its path is served on ``LOANBRIDGE_TELEGRAM_WEBHOOK_LISTEN``. On SIGTERM or
SIGINT the process stops taking updates, finishes the ones in hand and sends what they committed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from urllib.parse import urlparse

from aiohttp import web

from bot.app import App, build_app
from bot.broadcasting import Broadcaster, Talking
from bot.channels.telegram import BotApi, Pace, TelegramChannel
from bot.dead_letters import DeadLetters
from bot.settings import Settings, SettingsError
from dialogs.domain import Channel
from dialogs.ports import Clock, CodeSender

log = logging.getLogger(__name__)


def telegram_api(settings: Settings) -> BotApi:
    if settings.telegram_token is None:
        raise SettingsError("LOANBRIDGE_TELEGRAM_TOKEN: not set, and no other channel is configured")
    token = settings.telegram_token.get_secret_value()
    if settings.telegram_lib == "aiogram":
        from bot.channels.telegram_aiogram import AiogramApi  # noqa: PLC0415 - only the chosen library loads

        return AiogramApi(token, settings.telegram_api_url)
    from bot.channels.telegram_ptb import PtbApi  # noqa: PLC0415 - as above

    return PtbApi(token, settings.telegram_api_url)


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
    stop = stop or _stop_on_signals()
    webhook = webhook_settings(settings)
    api = api or telegram_api(settings)
    channel = TelegramChannel(api, Pace(settings.telegram_rate, settings.telegram_chat_rate))
    app = build_app(
        settings,
        {Channel.TELEGRAM: channel},
        code_sender=code_sender,
        clock=clock,
        scheduled=settings.run_scheduler,  # off when a separate `loanbridge scheduler` runs the jobs
    )
    # One message that cannot be committed is given up on after a few attempts, not retried for ever.
    handle = DeadLetters(app.store, app.delivery).guard(app.engine.handle)
    talking = Talking(app.delivery)  # broadcasts wait while anyone's turn or reply is under way
    handle = talking.guard(handle)
    # Closed in reverse: stop taking updates, then deliver what they committed, then close the Bot API client.
    async with AsyncExitStack() as stack:
        await api.start()
        stack.push_async_callback(api.close)
        await stack.enter_async_context(app.running())
        # Broadcasts go out beside delivery, on the same channels and paces (replies first).
        senders = {Channel.TELEGRAM: channel}
        await stack.enter_async_context(
            Broadcaster(
                app.store, app.renderer, senders, submit=app.delivery.submit, replying=talking.busy
            ).running()
        )
        if webhook is None:
            polling = asyncio.create_task(channel.poll(handle, stop), name="telegram-polling")
            stack.push_async_callback(lambda: polling)  # finished: the batch in hand is handled first
            log.info("telegram: polling (%s)", settings.telegram_lib)
        else:
            url, host, port, secret = webhook
            runner = web.AppRunner(channel.webhook(handle, urlparse(url).path, secret))
            await runner.setup()
            stack.push_async_callback(runner.cleanup)  # waits for requests in hand
            await web.TCPSite(runner, host, port).start()
            await api.set_webhook(url, secret)
            log.info("telegram: webhook on %s:%s (%s)", host, port, settings.telegram_lib)
        if ready is not None:
            ready.set_result(app)
        await stop.wait()
        log.info("stopping: finishing the updates in hand")
    return app


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    return stop
