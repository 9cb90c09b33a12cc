"""aiogram 3 as the Bot API client of :mod:`bot.channels.telegram` (``LOANBRIDGE_TELEGRAM_LIB=aiogram``)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.channels.telegram import OutgoingButton
from bot.channels.telegram import RetryAfter as WaitFor
from bot.delivery import Unreachable


class AiogramApi:
    def __init__(self, token: str, api_url: str) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
        self.bot = Bot(token, session=session)

    async def start(self) -> None:
        await self.bot.get_me()

    async def close(self) -> None:
        await self.bot.session.close()

    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[dict[str, Any]]:
        updates = await self.bot.get_updates(
            offset=offset, timeout=wait_seconds, request_timeout=wait_seconds + 10
        )
        return [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in updates]

    async def send_text(
        self, chat_id: int, text: str, buttons: list[OutgoingButton], contact_label: str | None
    ) -> None:
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if contact_label:
            share = [[KeyboardButton(text=contact_label, request_contact=True)]]
            markup = ReplyKeyboardMarkup(keyboard=share, one_time_keyboard=True, resize_keyboard=True)
        elif buttons:
            rows = [[InlineKeyboardButton(text=b.label, callback_data=b.data)] for b in buttons]
            markup = InlineKeyboardMarkup(inline_keyboard=rows)
        await self._call(self.bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup))

    async def send_document(self, chat_id: int, file_name: str, content: bytes, caption: str) -> None:
        document = BufferedInputFile(content, filename=file_name)
        await self._call(self.bot.send_document(chat_id, document, caption=caption or None))

    async def answer_callback(self, callback_id: str) -> None:
        await self.bot.answer_callback_query(callback_id)

    async def download(self, file_id: str) -> bytes:
        found = await self.bot.download(file_id)
        return found.read() if found is not None else b""

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, drop_pending_updates=False)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    @staticmethod
    async def _call(request: Any) -> None:
        try:
            await request
        except TelegramRetryAfter as error:
            raise WaitFor(float(error.retry_after)) from None
        except TelegramForbiddenError as error:
            raise Unreachable(str(error)) from None
