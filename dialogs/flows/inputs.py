"""How steps read answers that are not buttons: each kind checks its input and says, with an example, why not.

Every ``Invalid`` names an ``errors/…`` template; the engine sends it and asks the question again.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from dialogs.domain import FileRef
from dialogs.errors import InvalidIdNumber, InvalidInput, InvalidPhone
from dialogs.flows.base import Accept, Ctx, Invalid
from dialogs.messages import Inbound, InboundKind
from dialogs.rules.identity import normalise_phone, validate_resident_id
from dialogs.rules.money import parse_money

MAX_TEXT = 2000
MAX_FILE_BYTES = 20 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _text_of(inbound: Inbound, *, example: str) -> str:
    if inbound.kind not in (InboundKind.TEXT, InboundKind.CONTACT):
        raise Invalid("errors/text_expected", example=example)
    return inbound.payload.strip()


def buttons_only(_ctx: Ctx, inbound: Inbound) -> object:
    raise Invalid("errors/use_buttons")


def text(*, max_len: int = MAX_TEXT, min_len: int = 1, example: str = "") -> Accept:
    def accept(_ctx: Ctx, inbound: Inbound) -> str:
        value = _text_of(inbound, example=example)
        if len(value) > max_len:
            raise Invalid("errors/too_long", limit=max_len, length=len(value))
        if len(value) < min_len:
            raise Invalid("errors/too_short", limit=min_len, example=example)
        return value

    return accept


def money(*, maximum: Decimal = Decimal(10_000_000), example: str = "3500") -> Accept:
    def accept(_ctx: Ctx, inbound: Inbound) -> Decimal:
        raw = _text_of(inbound, example=example)
        if len(raw) > 40:
            raise Invalid("errors/money", example=example)
        try:
            amount = parse_money(raw.replace("¥", "").replace("元", "").replace("，", ","))
        except InvalidInput:
            raise Invalid("errors/money", example=example) from None
        if amount < 0 or amount > maximum:
            raise Invalid("errors/money_range", maximum=maximum, example=example)
        return amount

    return accept


def whole_number(*, minimum: int, maximum: int, example: str) -> Accept:
    def accept(_ctx: Ctx, inbound: Inbound) -> int:
        raw = _text_of(inbound, example=example)
        if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
            raise Invalid("errors/number", minimum=minimum, maximum=maximum, example=example)
        value = int(raw)
        if not minimum <= value <= maximum:
            raise Invalid("errors/number", minimum=minimum, maximum=maximum, example=example)
        return value

    return accept


def id_number(ctx: Ctx, inbound: Inbound) -> str:
    raw = _text_of(inbound, example="110101199003071234")
    try:
        return validate_resident_id(raw[:40], today=ctx.now.date()).number
    except InvalidIdNumber:
        raise Invalid("errors/id_number") from None


def phone(_ctx: Ctx, inbound: Inbound) -> str:
    """A typed number, or a shared contact when it is the sender's own."""
    if inbound.kind is InboundKind.CONTACT and not inbound.extra.get("own", False):
        raise Invalid("errors/contact_not_own")
    raw = _text_of(inbound, example="13812345678")
    try:
        return normalise_phone(raw[:40])
    except InvalidPhone:
        raise Invalid("errors/phone") from None


def code(_ctx: Ctx, inbound: Inbound) -> str:
    raw = _text_of(inbound, example="123456").replace(" ", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) == 6):
        raise Invalid("errors/code")
    return raw


def calendar_date(_ctx: Ctx, inbound: Inbound) -> date:
    raw = _text_of(inbound, example="2026-11-03")
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("errors/date", example="2026-11-03") from None


def file(_ctx: Ctx, inbound: Inbound) -> FileRef:
    if inbound.kind is not InboundKind.FILE:
        raise Invalid("errors/file_expected")
    extra = inbound.extra
    size, digest, ref = extra.get("size"), str(extra.get("sha256", "")), str(extra.get("ref", ""))
    if not isinstance(size, int) or not _SHA256.match(digest) or not ref or len(ref) > 500:
        raise Invalid("errors/file_unreadable")
    if size > MAX_FILE_BYTES:
        raise Invalid("errors/file_too_big", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
    name = extra.get("name")
    mime = extra.get("mime")
    return FileRef(
        storage_ref=ref,
        sha256=digest,
        size_bytes=size,
        file_name=str(name)[:255] if name else None,
        mime_type=str(mime)[:100] if mime else None,
    )
