"""python-telegram-bot as the Bot API client of :mod:`bot.channels.telegram` (the default library)."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter
from telegram.request import HTTPXRequest

from bot.channels.telegram import POLL_TIMEOUT, OutgoingButton
from bot.channels.telegram import RetryAfter as WaitFor
from bot.delivery import Unreachable


class PtbApi:
    def __init__(self, token: str, api_url: str) -> None:
        base = api_url.rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(connection_pool_size=64),
            get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT + 10),
        )

    async def start(self) -> None:
        await self.bot.initialize()

    async def close(self) -> None:
        await self.bot.shutdown()

    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[dict[str, Any]]:
        updates = await self.bot.get_updates(
            offset=offset, timeout=wait_seconds, read_timeout=wait_seconds + 10
        )
        return [update.to_dict() for update in updates]

    async def send_text(
        self, chat_id: int, text: str, buttons: list[OutgoingButton], contact_label: str | None
    ) -> None:
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if contact_label:
            share = [[KeyboardButton(contact_label, request_contact=True)]]
            markup = ReplyKeyboardMarkup(share, one_time_keyboard=True, resize_keyboard=True)
        elif buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in buttons]
            )
        await self._call(self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup))

    async def send_document(self, chat_id: int, file_name: str, content: bytes, caption: str) -> None:
        await self._call(
            self.bot.send_document(chat_id, content, filename=file_name, caption=caption or None)
        )

    async def answer_callback(self, callback_id: str) -> None:
        await self.bot.answer_callback_query(callback_id)

    async def download(self, file_id: str) -> bytes:
        found = await self.bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, drop_pending_updates=False)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    @staticmethod
    async def _call(request: Any) -> None:
        try:
            await request
        except RetryAfter as error:
            with warnings.catch_warnings():  # PTB 22 warns that the value will become a timedelta
                warnings.simplefilter("ignore")
                wait = error.retry_after
            raise WaitFor(wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) from None
        except Forbidden as error:
            raise Unreachable(str(error)) from None
