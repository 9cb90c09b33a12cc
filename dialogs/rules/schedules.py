"""Instalment schedules: equal instalment (等额本息), equal principal (等额本金) and equal parts.

Each regular instalment is rounded to the fen on its own (the payment half up, each month's interest half
up on the principal still owed) and the last instalment absorbs what rounding left over, so a schedule's
principal parts add up exactly to its principal and its amounts exactly to its total.

The argument checks every rule shares (``require_money`` from money.py, ``require_rate``, ``require_months``,
``require_fraction``) live here too: this is the lowest of the rule modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

from dialogs.errors import InvalidInput
from dialogs.rules.money import FEN, ZERO, floor_fen, require_money, to_fen

MAX_MONTHS = 360  # thirty years: the longest term any loan here runs
# Ten billion yuan: far above any borrower's figures, and small enough that every amount, its interest and
# a 360-month total stay exact in the default 28-digit Decimal context.
MAX_MONTHLY_RATE = Decimal(1)  # 100 % a month; loan books refuse annual rates of 10 (1000 %) or more
_POWER_PRECISION = 40  # (1+r)^n for n ≤ 360 needs more digits than the 28 of the default context


# One instalment as plain values: (number, principal, interest, amount, remaining_principal).
Row = tuple[int, Decimal, Decimal, Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Instalment:
    """One monthly instalment; ``remaining_principal`` is what is still owed once it is paid."""

    number: int
    principal: Decimal
    interest: Decimal
    amount: Decimal
    remaining_principal: Decimal


@dataclass(frozen=True, slots=True)
class Schedule:
    """A plan's instalments in order, numbered from 1, with their totals.

    The rows are kept as plain tuples and turned into :class:`Instalment` records when first read: a plan
    set works out a dozen schedules to show their summaries, and only the chosen one needs its records.
    """

    rows: tuple[Row, ...] = field(repr=False)
    total: Decimal = field(init=False)
    principal_total: Decimal = field(init=False)
    interest_total: Decimal = field(init=False)
    largest_amount: Decimal = field(init=False)  # what affordability is judged on: the last may be larger
    _instalments: tuple[Instalment, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rows:
            raise InvalidInput("a schedule needs at least one instalment")
        _, principal, interest, amounts, _ = zip(*self.rows, strict=True)
        object.__setattr__(self, "total", sum(amounts, ZERO))
        object.__setattr__(self, "principal_total", sum(principal, ZERO))
        object.__setattr__(self, "interest_total", sum(interest, ZERO))
        object.__setattr__(self, "largest_amount", max(amounts))

    @classmethod
    def of(cls, instalments: Iterable[Instalment]) -> Schedule:
        """A schedule of instalments made elsewhere (a proposal's own terms)."""
        return cls(
            tuple((i.number, i.principal, i.interest, i.amount, i.remaining_principal) for i in instalments)
        )

    @property
    def instalments(self) -> tuple[Instalment, ...]:
        instalments = self._instalments
        if instalments is None:
            # Memoised: the records follow from the rows, so the schedule stays immutable in meaning.
            instalments = tuple(Instalment(*row) for row in self.rows)
            object.__setattr__(self, "_instalments", instalments)
        return instalments

    @property
    def months(self) -> int:
        return len(self.rows)

    @property
    def first_amount(self) -> Decimal:
        """The typical instalment: the regular payment, or for equal principal the first and largest."""
        return self.rows[0][3]

    @property
    def last_amount(self) -> Decimal:
        return self.rows[-1][3]


def require_fraction(name: str, value: object, *, allow_zero: bool, allow_one: bool = True) -> Decimal:
    """A Decimal share between 0 and 1; whether the ends are allowed depends on what the share means."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(f"{name} must be a Decimal fraction, not {type(value).__name__}")
    share = Decimal(value)
    # is_finite first: comparing a NaN raises a bare decimal error.
    in_range = share.is_finite() and (share >= 0 if allow_zero else share > 0)
    if not (in_range and (share <= 1 if allow_one else share < 1)):
        bounds = f"{'[' if allow_zero else '('}0, 1{']' if allow_one else ')'}"
        raise InvalidInput(f"{name} must be a fraction in {bounds}, got {value}")
    return share


def require_rate(name: str, value: object, *, maximum: Decimal = MAX_MONTHLY_RATE) -> Decimal:
    """A non-negative Decimal interest rate (a fraction: 0.01 is 1 %), at most ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(f"{name} must be a Decimal fraction such as 0.01, not {type(value).__name__}")
    rate = Decimal(value)
    if not (rate.is_finite() and 0 <= rate <= maximum):
        raise InvalidInput(f"{name} must be between 0 and {maximum}, got {value}")
    return rate


def require_months(name: str, value: object, *, maximum: int = MAX_MONTHS) -> int:
    """A whole number of months from 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number of months, not {type(value).__name__}")
    if not 1 <= value <= maximum:
        raise InvalidInput(f"{name} must be from 1 to {maximum} months, got {value}")
    return value


def equal_instalment_payment(principal: Decimal, monthly_rate: Decimal, months: int) -> Decimal:
    """The regular 等额本息 payment ``P·r·(1+r)^n / ((1+r)^n − 1)``, half up to the fen."""
    principal = require_money("the principal", principal)
    rate = require_rate("the monthly rate", monthly_rate)
    months = require_months("the number of months", months)
    return _payment(principal, rate, months)


def equal_instalment(
    principal: Decimal, monthly_rate: Decimal, months: int, *, interest_free: Decimal = ZERO
) -> Schedule:
    """等额本息: the same payment every month, interest on what is still owed; at rate 0, equal parts.

    ``interest_free`` (arrears carried into a plan) is repaid beside it in equal parts, as in
    :func:`equal_parts`; its parts count as principal and it earns no interest.
    """
    principal, rate, months, free = _checked(principal, monthly_rate, months, interest_free)
    payment = _payment(principal, rate, months)
    # The payment never falls below the first (largest) month's interest, so the part is never negative.
    return _amortise(principal, rate, months, free, payment=payment)


def equal_principal(
    principal: Decimal, monthly_rate: Decimal, months: int, *, interest_free: Decimal = ZERO
) -> Schedule:
    """等额本金: the same principal part every month (half up) plus interest on what is still owed.

    ``interest_free`` is repaid beside it in equal parts, as for :func:`equal_instalment`.
    """
    principal, rate, months, free = _checked(principal, monthly_rate, months, interest_free)
    part = to_fen(principal / months)
    return _amortise(principal, rate, months, free, part=part)


def equal_parts(total: Decimal, months: int) -> Schedule:
    """No interest: ``total`` in equal parts rounded down to the fen; the last adds the remainder."""
    total = require_money("the total", total)
    months = require_months("the number of months", months)
    return _amortise(ZERO, ZERO, months, total)


def _checked(
    principal: object, rate: object, months: object, interest_free: object
) -> tuple[Decimal, Decimal, int, Decimal]:
    return (
        require_money("the principal", principal),
        require_rate("the monthly rate", rate),
        require_months("the number of months", months),
        require_money("the interest-free amount", interest_free),
    )


def _payment(principal: Decimal, rate: Decimal, months: int) -> Decimal:
    if rate == 0:
        return floor_fen(principal / months)  # the same parts as equal_parts, so rate 0 matches it
    with localcontext() as ctx:
        ctx.prec = _POWER_PRECISION
        growth = (1 + rate) ** months
        if growth == 1:  # a rate too small to register over this term: it earns no fen of interest
            return floor_fen(principal / months)
        return to_fen(principal * rate * growth / (growth - 1))


def _amortise(
    principal: Decimal,
    rate: Decimal,
    months: int,
    interest_free: Decimal,
    *,
    payment: Decimal | None = None,
    part: Decimal = ZERO,
) -> Schedule:
    """Walk the months: interest on what is owed, then the principal part — what is left of ``payment``
    after the interest (等额本息), or the fixed ``part`` (等额本金); the last month pays the rest."""
    # Interest-free parts round down, so their remainder (0 to months − 1 fen) only ever adds to the last.
    free_part = floor_fen(interest_free / months)
    free_left = interest_free
    remaining = principal
    rows: list[Row] = []
    # This loop is the hot path of a plan set (DESIGN §8), hence the inlined half-up rounding of to_fen.
    for number in range(1, months):
        interest = (remaining * rate).quantize(FEN, ROUND_HALF_UP) if rate else ZERO
        regular = part if payment is None else payment - interest
        if regular > remaining:  # a tiny principal over a long term: never pay below zero
            regular = remaining
        elif regular < 0:  # cannot happen with an exact payment; guards the 28-digit interest product
            regular = ZERO
        remaining -= regular
        free_left -= free_part
        paid = regular + free_part
        rows.append((number, paid, interest, paid + interest, remaining + free_left))
    interest = to_fen(remaining * rate) if rate else ZERO
    paid = remaining + free_left
    rows.append((months, paid, interest, paid + interest, ZERO))
    return Schedule(tuple(rows))
