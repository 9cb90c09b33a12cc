"""How steps read answers that are not buttons: each kind checks its input and says, with an example, why not.

Every ``Invalid`` names an ``errors/…`` template; the engine sends it and asks the question again.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

from dialogs.domain import FileRef
from dialogs.errors import InvalidIdNumber, InvalidInput, InvalidPhone
from dialogs.flows.base import Accept, Ctx, Invalid
from dialogs.messages import Inbound, InboundKind
from dialogs.rules.chinese_numbers import parse_chinese_number
from dialogs.rules.identity import (
    InvalidName,
    check_person_name,
    normalise_loan_ref,
    normalise_phone,
    validate_resident_id,
)
from dialogs.rules.money import AmountTooLarge, NegativeAmount, parse_typed_amount

MAX_TEXT = 2000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NAME = 50
MAX_COUNT_TEXT = 20  # "12 months", "十二个月": a count is short
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Examples shown in questions and error messages. Each passes the check it illustrates (a test says so).
ID_EXAMPLE = "110101199003071233"
PHONE_EXAMPLE = "13812345678"
CODE_EXAMPLE = "123456"
NAME_EXAMPLE = "张三"
_MONTHS_WORD = re.compile(r"(?:个月|月|months?|mo)$")


def _text_of(inbound: Inbound, *, example: str) -> str:
    if inbound.kind not in (InboundKind.TEXT, InboundKind.CONTACT):
        raise Invalid("errors/text_expected", example=example)
    return inbound.payload.strip()


USE_BUTTONS = "errors/use_buttons"
MAX_MARK = 4  # "b", "12", "aa": a choice's mark as a text channel shows it
MAX_LABEL = 200


def buttons_only(_ctx: Ctx, inbound: Inbound) -> object:
    raise Invalid(USE_BUTTONS)


def refusal_marks(inbound: Inbound | None) -> dict[str, Any]:
    """What a text channel says to list again in the "choose one of the options" refusal: the choices the
    typed words could mean (``extra["meant"]``) and the notices' lettered choices on screen, which the
    question asked again does not show (``extra["lettered"]``), as ``[mark, label]`` pairs; and whether
    the marks to type are letters, numbers or either (``mark_by``). Malformed extras are ignored."""
    if inbound is None or inbound.kind is not InboundKind.TEXT:
        return {}
    meant, lettered = _marks(inbound.extra.get("meant")), _marks(inbound.extra.get("lettered"))
    if not meant and not lettered:
        return {}
    shown = meant or lettered
    letters = any(mark.isalpha() for mark in (m["mark"] for m in shown))
    numbers = not meant or any(m["mark"].isdigit() for m in meant)  # the question below is numbered
    return {"meant": meant, "lettered": lettered, "mark_by": _mark_by(letters, numbers)}


def _mark_by(letters: bool, numbers: bool) -> str:
    return "either" if letters and numbers else "letter" if letters else "number"


def _marks(pairs: object) -> list[dict[str, str]]:
    if not isinstance(pairs, list):
        return []
    return [
        {"mark": pair[0], "label": pair[1][:MAX_LABEL]}
        for pair in pairs
        if isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(part, str) for part in pair)
        and 0 < len(pair[0]) <= MAX_MARK
        and pair[0].isalnum()
    ]


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
    """An amount in yuan as people type it (3000, ¥3,000, 三千, 0.5万, 3000块); a wrong one is said why."""

    def accept(_ctx: Ctx, inbound: Inbound) -> Decimal:
        raw = _text_of(inbound, example=example)
        try:
            amount = parse_typed_amount(raw)
        except NegativeAmount:
            raise Invalid("errors/money_negative", example=example) from None
        except AmountTooLarge:
            raise Invalid("errors/money_range", maximum=maximum, example=example) from None
        except InvalidInput:
            raise Invalid("errors/money", example=example) from None
        if amount > maximum:
            raise Invalid("errors/money_range", maximum=maximum, example=example)
        return amount

    return accept


def whole_number(*, minimum: int, maximum: int, example: str) -> Accept:
    """A count such as months: ``6``, ``６``, ``六``, ``6个月``, ``6 months``."""

    def accept(_ctx: Ctx, inbound: Inbound) -> int:
        raw = _text_of(inbound, example=example)
        value = _count(raw) if len(raw) <= MAX_COUNT_TEXT else None
        if value is None or not minimum <= value <= maximum:
            raise Invalid("errors/number", minimum=minimum, maximum=maximum, example=example)
        return value

    return accept


def _count(raw: str) -> int | None:
    folded = _MONTHS_WORD.sub("", "".join(unicodedata.normalize("NFKC", raw).casefold().split()))
    if folded.isascii() and folded.isdigit():
        return int(folded)
    try:
        value = parse_chinese_number(folded)
    except InvalidInput:
        return None
    return int(value) if value == value.to_integral_value() else None


def id_number(ctx: Ctx, inbound: Inbound) -> str:
    raw = _text_of(inbound, example=ID_EXAMPLE)
    try:
        return validate_resident_id(unicodedata.normalize("NFKC", raw[:40]), today=ctx.now.date()).number
    except InvalidIdNumber:
        raise Invalid("errors/id_number", example=ID_EXAMPLE) from None


def phone(_ctx: Ctx, inbound: Inbound) -> str:
    """A typed number, or a shared contact when it is the sender's own."""
    if inbound.kind is InboundKind.CONTACT and not inbound.extra.get("own", False):
        raise Invalid("errors/contact_not_own")
    raw = _text_of(inbound, example=PHONE_EXAMPLE)
    try:
        return normalise_phone(unicodedata.normalize("NFKC", raw[:40]))
    except InvalidPhone:
        raise Invalid("errors/phone", example=PHONE_EXAMPLE) from None


def code(_ctx: Ctx, inbound: Inbound) -> str:
    """Six digits, however spaced (``123 456``) or typed (full-width ``１２３４５６``)."""
    raw = _text_of(inbound, example=CODE_EXAMPLE)
    digits = "".join(unicodedata.normalize("NFKC", raw[:40]).split()).replace("-", "")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 6):
        raise Invalid("errors/code", example=CODE_EXAMPLE)
    return digits


def person_name(ctx: Ctx, inbound: Inbound) -> str:
    """A name as on the ID card: refused before it is compared (and costs an attempt) if it cannot be one.

    The loan reference typed into the name question is the usual slip; it has digits, so it is refused here.
    """
    raw = _text_of(inbound, example=NAME_EXAMPLE)
    if len(raw) > MAX_NAME:
        raise Invalid("errors/too_long", limit=MAX_NAME, length=len(raw))
    ref = ctx.data.get("v_ref")
    try:
        name = check_person_name(raw, max_len=MAX_NAME)
    except InvalidName:
        raise Invalid("errors/name", example=NAME_EXAMPLE) from None
    if ref and normalise_loan_ref(name) == normalise_loan_ref(ref):
        raise Invalid("errors/name", example=NAME_EXAMPLE)
    return name


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
