"""Money as exact ``Decimal`` yuan, rounded to the fen (0.01) half-up, and nothing else."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from dialogs.errors import InvalidInput

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


def parse_money(text: str) -> Decimal:
    """Parse a yuan amount typed by a person or found in a file ("1,234.50", "¥800", "800元")."""
    cleaned = text.strip().replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥")
    cleaned = cleaned.removesuffix("元").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(f"not an amount: {text!r}") from None
    return require_money("amount", amount)
