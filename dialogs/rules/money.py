"""Money as exact ``Decimal`` yuan, rounded to the fen (0.01) half-up, and nothing else.

Typed amounts (:func:`parse_typed_amount`) raise one of two ``InvalidInput`` subclasses when the reason
deserves its own answer: :class:`NegativeAmount` and :class:`AmountTooLarge`.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from dialogs.errors import InvalidInput
from dialogs.rules.chinese_numbers import parse_chinese_number

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("10000000000")  # ten billion yuan: far above any loan, well inside Decimal's precision


def to_fen(amount: Decimal) -> Decimal:
    """Round to the fen, half up: the rounding every displayed amount uses."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def floor_fen(amount: Decimal) -> Decimal:
    """Round down to the fen: for limits a borrower must not exceed."""
    return amount.quantize(FEN, rounding=ROUND_DOWN)


def require_money(name: str, value: object, *, allow_zero: bool = True) -> Decimal:
    """Check that ``value`` is a finite, non-negative Decimal with at most two decimals, and return it."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(f"{name} must be an exact amount (Decimal), not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidInput(f"{name} must be a finite amount")
    if amount > MAX_AMOUNT:  # before quantize, which raises a bare decimal error on huge values
        raise InvalidInput(f"{name} is implausibly large: {amount}")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(
            f"{name} must be {'zero or more' if allow_zero else 'more than zero'}, got {amount}"
        )
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise InvalidInput(f"{name} has more than two decimals: {amount}")
    return amount.quantize(FEN)


class NegativeAmount(InvalidInput):
    """An amount typed with a minus sign: a figure here is never below zero."""


class AmountTooLarge(InvalidInput):
    """An amount far above anything a borrower's budget or loan can hold."""


# Words people put around an amount: currency signs and names before it, 元/块/yuan after it.
_PREFIX = re.compile(r"^(?:¥|rmb|cny|人民币)")
_SUFFIX = re.compile(r"(?:元整|元|块钱|块|圆|yuan|rmb|cny|人民币)$")
_MINUS = re.compile(r"^(?:-|\u2212|负)")
_PLAIN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# Asked for savings or a cost they do not have, people answer in words: that is an amount, nothing.
_NOTHING = frozenset({"none", "nothing", "zero", "nil", "没有", "没", "无", "零", "没有了", "一分没有"})
_END_PUNCTUATION = ".!。！~～"


def parse_typed_amount(text: str) -> Decimal:
    """An amount as a person types it: ``3,000.50``, ``￥3000``, ``3000块``, ``3000 yuan``, ``1.2万元``.

    Full-width characters count as their ordinary forms (``３０００``); "none", "没有", "无" are zero.
    Raises :class:`NegativeAmount`, :class:`AmountTooLarge`, or ``InvalidInput`` for anything else that is
    not an amount in fen.
    """
    if _canonical(text).rstrip(_END_PUNCTUATION) in _NOTHING:
        return ZERO
    cleaned = _strip_currency(_canonical(text))
    negative = bool(_MINUS.match(cleaned))
    amount = _number(_MINUS.sub("", cleaned, count=1) if negative else cleaned, text)
    if negative and amount != 0:
        raise NegativeAmount(f"a negative amount: {text!r}")
    if amount > MAX_AMOUNT:
        raise AmountTooLarge(f"an implausibly large amount: {text!r}")
    return require_money("amount", amount)


def _canonical(text: str) -> str:
    # NFKC turns full-width digits, ￥ and ， into ¥ and ASCII; spaces inside an amount carry nothing.
    folded = unicodedata.normalize("NFKC", text).casefold().replace("，", ",")
    return "".join(folded.split())


def _strip_currency(text: str) -> str:
    return _SUFFIX.sub("", _PREFIX.sub("", text.removeprefix("+")))


def _number(text: str, original: str) -> Decimal:
    text = _PREFIX.sub("", text)  # "-¥3,000": the sign may come before the currency
    if _PLAIN.fullmatch(text):
        return Decimal(text.replace(",", ""))
    try:
        return parse_chinese_number(text)
    except (InvalidInput, InvalidOperation):
        raise InvalidInput(f"not an amount: {original!r}") from None
