"""Interest law (DESIGN §4; China, for information, not legal advice): a loan's annual rate and the level
the courts protect.

Since 20 August 2020 the Supreme People's Court's provisions on private lending do not protect interest
above four times the one-year Loan Prime Rate (LPR) in force when the contract was made, and overdue
interest, penalties and other fees together may not exceed that level either. Licensed financial
institutions (microloan and consumer finance companies, banks, trust companies: the funding partners
of online platforms are among them) fall outside those provisions: the Court's 2017 opinion on
financial trials (法发〔2017〕22号) supports reducing interest, compound interest, penalties and fees on a
financial loan above 24 % a year in total, and regulators hold lenders' comprehensive financing cost
to that line. Which level applies therefore depends on the :class:`LenderKind`; the licensed level is
configuration (:class:`InterestLaw`), and so is the LPR, with a dated history (:class:`LprHistory`),
never a constant in code.

The annual rate is computed the way the People's Bank requires lenders to disclose it (announcement
〔2021〕 No. 3): the internal rate of return ``i`` of the actual cash flows — what the borrower received, net
of anything deducted up front, against every repayment, fees included — shown as compound ``(1+i)^12 − 1``,
with ``12·i`` labelled simple. Courts compare nominal annual rates, so the *simple* rate is the one checked
against four times the LPR.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum

from dialogs.errors import InvalidInput
from dialogs.rules.money import ZERO, require_money, to_fen
from dialogs.rules.schedules import (
    MAX_MONTHS,
    equal_instalment,
    require_fraction,
    require_rate,
)

# The default of the LPR setting: the one-year LPR as published by the National Interbank Funding Center
# on behalf of the People's Bank (monthly, on the 20th or the next working day), every change from the
# reformed LPR's first quote on 2019-08-20 to 2025-05-20. Deployments extend it through the setting when
# the rate changes; the code never assumes the latest figure.
DEFAULT_LPR_HISTORY_TEXT = (
    "2019-08-20:0.0425,2019-09-20:0.0420,2019-11-20:0.0415,2020-02-20:0.0405,2020-04-20:0.0385,"
    "2021-12-20:0.0380,2022-01-20:0.0370,2022-08-22:0.0365,2023-06-20:0.0355,2023-08-21:0.0345,"
    "2024-07-22:0.0335,2024-10-21:0.0310,2025-05-20:0.0300"
)

FOUR_TIMES_LPR_SINCE = date(2020, 8, 20)  # the revised private-lending provisions took effect that day
LPR_MULTIPLE = 4
DAYS_PER_YEAR = 365  # the day count the courts use for overdue interest on private loans
RATE_PLACES = Decimal("1E-12")  # annual rates are kept to twelve places, far below anything displayed
# Rates are compared as they are shown, to 0.01 %: a loan at exactly 12 % whose instalments were rounded
# up to the fen has an IRR a few millionths above 1 % a month and must not be flagged for it.
COMPARISON_STEP = Decimal("0.0001")
MAX_ANNUAL_RATE = Decimal(10)  # loan books refuse annual rates of 1000 % or more

_PRECISION = 50  # (1+i)^-360 and its sums need more than the default 28 digits
_IRR_PLACES = Decimal("1E-15")  # the monthly IRR as returned
# The final bracket is far narrower than the places returned, so the last place is (all but) always right.
_IRR_TOLERANCE = Decimal("1E-20")
_MAX_MONTHLY_IRR = Decimal(10)  # 1000 % a month: beyond it the figures are wrong, not the loan
_NEWTON_STEPS = 100  # safeguarded Newton converges in a handful; bisection finishes the rare rest


DEFAULT_LICENSED_LEVEL = Decimal("0.24")  # the financing-cost line for licensed institutions


class Regime(StrEnum):
    """Which court rule the protected level comes from."""

    FOUR_TIMES_LPR = "4x-lpr"
    PRE_2020_08_20 = "pre-2020-08-20"
    LICENSED = "licensed"  # a financial institution: the financing-cost expectation, not the LPR


class LenderKind(StrEnum):
    """Who lent the money, as far as interest law cares: a private lender or a licensed institution."""

    PRIVATE = "private"  # people and ordinary companies: the private-lending provisions (4×LPR)
    MICROLOAN = "microloan"  # 小额贷款公司
    CONSUMER_FINANCE = "consumer_finance"  # 消费金融公司
    BANK = "bank"
    TRUST = "trust"  # 信托公司, a common funding partner of lending platforms

    @property
    def licensed(self) -> bool:
        return self is not LenderKind.PRIVATE


@dataclass(frozen=True, slots=True)
class LprHistory:
    """The one-year LPR by effective date, oldest first: ``((effective_date, rate as a fraction), ...)``."""

    entries: tuple[tuple[date, Decimal], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.entries, tuple) or not self.entries:
            raise InvalidInput("the LPR history needs at least one (date, rate) entry")
        previous: date | None = None
        for number, entry in enumerate(self.entries, start=1):
            effective, _ = _require_entry(number, entry)
            if previous is not None and effective <= previous:
                raise InvalidInput(
                    f"LPR history dates must increase with no repeats: {effective} comes after {previous}"
                )
            previous = effective

    @classmethod
    def parse(cls, text: str) -> LprHistory:
        """Read the setting: ``DATE:RATE`` entries separated by commas, oldest first.

        ``DATE`` is ISO ``YYYY-MM-DD``, ``RATE`` a decimal fraction (``0.0385`` is 3.85 %); spaces and line
        breaks around entries are ignored. Example: ``2024-10-21:0.0310,2025-05-20:0.0300``.
        """
        if not isinstance(text, str):
            raise InvalidInput(f"the LPR history must be text, not {type(text).__name__}")
        if not text.strip():
            raise InvalidInput("the LPR history is empty")
        items = text.split(",")
        return cls(tuple(_parse_entry(number, item.strip()) for number, item in enumerate(items, start=1)))

    def to_text(self) -> str:
        """The setting's text for this history; :meth:`parse` reads it back unchanged."""
        return ",".join(f"{effective.isoformat()}:{rate}" for effective, rate in self.entries)

    def entry_on(self, on: date) -> tuple[date, Decimal]:
        """The entry in force on ``on``: the latest whose effective date is not after it."""
        on = _require_date("the date", on)
        index = bisect_right(self.entries, on, key=lambda entry: entry[0])
        if index == 0:
            raise InvalidInput(f"the LPR history starts on {self.entries[0][0]}; it has no rate for {on}")
        return self.entries[index - 1]

    def rate_on(self, on: date) -> Decimal:
        """The one-year LPR in force on ``on`` (a fraction); a date before the history is invalid."""
        return self.entry_on(on)[1]


@dataclass(frozen=True, slots=True)
class ProtectedRate:
    """The annual (nominal) rate the courts protect for a contract, and where it comes from.

    ``lpr`` and ``lpr_effective`` are the LPR the level is four times; ``None`` for a licensed lender.
    """

    rate: Decimal
    lpr: Decimal | None
    lpr_effective: date | None
    regime: Regime


@dataclass(frozen=True, slots=True)
class InterestLaw:
    """The configured figures the protected level is made of: the LPR history and the licensed level."""

    lpr: LprHistory
    licensed_level: Decimal = DEFAULT_LICENSED_LEVEL

    def __post_init__(self) -> None:
        _require_history(self.lpr)
        require_fraction("the licensed level", self.licensed_level, allow_zero=False, allow_one=False)

    def protected(self, kind: LenderKind, contract_date: date) -> ProtectedRate:
        """The level that binds a lender of ``kind`` on a contract made on ``contract_date``."""
        if not isinstance(kind, LenderKind):
            raise InvalidInput(f"unknown lender kind: {kind!r}")
        if kind.licensed:
            _require_date("the contract date", contract_date)
            return ProtectedRate(self.licensed_level, None, None, Regime.LICENSED)
        return protected_annual_rate(contract_date, self.lpr)


@dataclass(frozen=True, slots=True)
class AnnualRate:
    """A monthly rate ``i`` as the two annual figures the People's Bank names."""

    monthly: Decimal
    compound: Decimal  # (1+i)^12 − 1: the disclosed annual rate
    simple: Decimal  # 12·i, labelled simple; what the courts compare

    @classmethod
    def from_monthly(cls, monthly: Decimal) -> AnnualRate:
        """Both annual figures of ``monthly``, each half up to :data:`RATE_PLACES`."""
        if isinstance(monthly, bool) or not isinstance(monthly, Decimal) or not monthly.is_finite():
            raise InvalidInput(f"the monthly rate must be a finite Decimal, got {monthly!r}")
        if not -1 < monthly <= _MAX_MONTHLY_IRR:
            raise InvalidInput(f"the monthly rate must be above -1 and at most {_MAX_MONTHLY_IRR}")
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            compound = (1 + monthly) ** 12 - 1
        return cls(monthly, _rate(compound), _rate(12 * monthly))


@dataclass(frozen=True, slots=True)
class CashFlows:
    """A loan as money actually moved, in yuan.

    ``received`` is what the borrower got at the start: the principal net of any fee or interest deducted
    up front. ``repayments`` are every payment at the end of months 1..n, fees included (0 for a month with
    nothing due).
    """

    received: Decimal
    repayments: tuple[Decimal, ...]

    def __post_init__(self) -> None:
        received = require_money("the amount received", self.received, allow_zero=False)
        if not isinstance(self.repayments, tuple | list) or not self.repayments:
            raise InvalidInput("the cash flows need at least one repayment")
        if len(self.repayments) > MAX_MONTHS:
            raise InvalidInput(
                f"the cash flows cover at most {MAX_MONTHS} months, got {len(self.repayments)}"
            )
        repayments = tuple(
            require_money(f"repayment {month}", amount) for month, amount in enumerate(self.repayments, 1)
        )
        if not any(repayments):
            raise InvalidInput("the cash flows repay nothing")
        # Normalised to the fen (and a list to a tuple); frozen otherwise.
        object.__setattr__(self, "received", received)
        object.__setattr__(self, "repayments", repayments)

    @classmethod
    def for_loan(
        cls, principal: Decimal, annual_rate: Decimal, term_months: int, *, upfront_fees: Decimal = ZERO
    ) -> CashFlows:
        """A loan-book loan as cash flows: 等额本息 instalments of ``principal`` at ``annual_rate``/12 over
        ``term_months``, the borrower having received ``principal`` less ``upfront_fees``.

        The loan book does not say how a loan is repaid; equal instalments is the common case. When the
        actual payments are known, build :class:`CashFlows` from them instead.
        """
        principal = require_money("the principal", principal, allow_zero=False)
        fees = require_money("the upfront fees", upfront_fees)
        if fees >= principal:
            raise InvalidInput(f"upfront fees of {fees} leave nothing of a principal of {principal}")
        rate = require_rate("the annual rate", annual_rate, maximum=MAX_ANNUAL_RATE)
        schedule = equal_instalment(principal, rate / 12, term_months)
        return cls(principal - fees, tuple(row[3] for row in schedule.rows))

    @property
    def total_repaid(self) -> Decimal:
        return sum(self.repayments, ZERO)


@dataclass(frozen=True, slots=True)
class OverdueCharges:
    """What a lender charges on an overdue loan: interest for the delay, penalty and other fees, in yuan."""

    outstanding_principal: Decimal
    overdue_days: int
    overdue_interest: Decimal = ZERO
    penalty: Decimal = ZERO
    fees: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("outstanding_principal", "overdue_interest", "penalty", "fees"):
            checked = require_money(name.replace("_", " "), getattr(self, name))
            object.__setattr__(self, name, checked)
        days = self.overdue_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidInput(f"overdue days must be a whole number of days, zero or more, got {days!r}")

    @property
    def total(self) -> Decimal:
        return self.overdue_interest + self.penalty + self.fees


@dataclass(frozen=True, slots=True)
class ChargesCheck:
    """Overdue charges against their cap: what the protected rate gives on the principal for the delay."""

    cap: Decimal
    charged: Decimal
    over_cap: Decimal


@dataclass(frozen=True, slots=True)
class InterestCheck:
    """A loan's rate against the protected level, and what the difference means in money.

    ``total_interest`` is everything repaid above what was received; ``protected_interest`` what the same
    schedule would charge at the protected rate (see :func:`interest_check`); ``over_cap_amount`` their
    difference when the rate is above the protected level, otherwise zero.
    """

    annual: AnnualRate
    protected: ProtectedRate
    above_protected: bool
    total_interest: Decimal
    protected_interest: Decimal
    over_cap_amount: Decimal
    charges: ChargesCheck | None = None

    @property
    def apr_compound(self) -> Decimal:
        return self.annual.compound

    @property
    def apr_simple(self) -> Decimal:
        return self.annual.simple

    @property
    def protected_rate(self) -> Decimal:
        return self.protected.rate

    @property
    def penalties_and_fees_over_cap(self) -> Decimal:
        """Overdue interest, penalty and fees above their cap; zero when none were given."""
        return ZERO if self.charges is None else self.charges.over_cap


def protected_annual_rate(contract_date: date, history: LprHistory) -> ProtectedRate:
    """Four times the one-year LPR in force on ``contract_date``: the highest annual rate protected.

    Contracts made before 2020-08-20 fell under the earlier rule (24 % protected, above 36 % void) for
    interest up to 2020-08-19, and under four times the LPR at the time of suit after that. We cannot know
    when a suit would be filed, so for them we report four times the LPR in force on 2020-08-20 and flag
    ``regime`` as :attr:`Regime.PRE_2020_08_20`, for the reader to be told the figure is indicative.
    """
    contract_date = _require_date("the contract date", contract_date)
    _require_history(history)
    regime = Regime.FOUR_TIMES_LPR if contract_date >= FOUR_TIMES_LPR_SINCE else Regime.PRE_2020_08_20
    effective, lpr = history.entry_on(max(contract_date, FOUR_TIMES_LPR_SINCE))
    return ProtectedRate(rate=LPR_MULTIPLE * lpr, lpr=lpr, lpr_effective=effective, regime=regime)


def monthly_irr(flows: CashFlows) -> Decimal:
    """The monthly internal rate of return ``i`` of ``flows``, within 1e-15.

    ``i`` solves ``Σ repayment_k / (1+i)^k = received``. The left side falls strictly as ``i`` rises, so
    the root is unique; it is bracketed, then found by Newton's method kept inside the bracket, finished
    by bisection if Newton stalls. Negative when less is repaid than was received.
    """
    _require_flows(flows)
    if flows.total_repaid == flows.received:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        low, high = _bracket(flows)
        root = _solve(flows, low, high)
    return root.quantize(_IRR_PLACES, rounding=ROUND_HALF_UP)


def annual_rate(flows: CashFlows) -> AnnualRate:
    """The disclosed annual rate of ``flows``: compound and simple, from the monthly IRR."""
    return AnnualRate.from_monthly(monthly_irr(flows))


def charges_check(charges: OverdueCharges, protected_rate: Decimal) -> ChargesCheck:
    """Overdue interest, penalty and fees together against ``principal × protected_rate × days / 365``.

    The cap is rounded half up to the fen; ``over_cap`` is what is charged above it (never negative).
    """
    if not isinstance(charges, OverdueCharges):
        raise InvalidInput(f"charges must be an OverdueCharges record, not {type(charges).__name__}")
    rate = require_fraction("the protected rate", protected_rate, allow_zero=False, allow_one=False)
    cap = to_fen(charges.outstanding_principal * rate * charges.overdue_days / DAYS_PER_YEAR)
    return ChargesCheck(cap=cap, charged=charges.total, over_cap=max(charges.total - cap, ZERO))


def within_cap(charges: OverdueCharges, protected_rate: Decimal) -> OverdueCharges:
    """``charges`` reduced to their cap (:func:`charges_check`): what a plan may still ask for.

    The law caps the three together and lets the lender choose among them, so the excess has to come off
    somewhere: fees first, then the penalty, then overdue interest, because the cap itself is measured as
    interest for the delay at the protected rate (interest up to it is exactly what the courts protect).
    """
    over = charges_check(charges, protected_rate).over_cap
    kept: dict[str, Decimal] = {}
    for name in ("fees", "penalty", "overdue_interest"):
        amount: Decimal = getattr(charges, name)
        dropped = min(amount, over)
        over -= dropped
        kept[name] = amount - dropped
    return replace(
        charges, overdue_interest=kept["overdue_interest"], penalty=kept["penalty"], fees=kept["fees"]
    )


def interest_check(
    contract_date: date,
    flows: CashFlows,
    history: LprHistory,
    overdue: OverdueCharges | None = None,
    *,
    protected: ProtectedRate | None = None,
) -> InterestCheck:
    """Check a loan's cash flows (and, if given, its overdue charges) against the protected level.

    ``protected`` is the level that binds the lender (:meth:`InterestLaw.protected`); without it, the
    private-lending level for ``contract_date``.

    The protected interest is what the same schedule charges at the protected rate: every repayment
    scaled by one factor so that together they repay ``received`` at exactly ``protected_rate / 12`` a
    month. For equal instalments that is the equal-instalment schedule at the protected rate (before its
    payment is rounded to the fen), so ``over_cap_amount`` is the total interest at the loan's rate less
    the total at the protected rate, half up to the fen.
    """
    _require_flows(flows)
    if overdue is not None and not isinstance(overdue, OverdueCharges):
        raise InvalidInput(f"overdue charges must be an OverdueCharges record, not {type(overdue).__name__}")
    if protected is None:
        protected = protected_annual_rate(contract_date, history)
    annual = annual_rate(flows)
    above = _shown(annual.simple) > protected.rate
    total_interest = flows.total_repaid - flows.received
    protected_interest = to_fen(_protected_repaid(flows, protected.rate / 12) - flows.received)
    over = max(total_interest - protected_interest, ZERO) if above else ZERO
    charges = None if overdue is None else charges_check(overdue, protected.rate)
    return InterestCheck(annual, protected, above, total_interest, protected_interest, over, charges)


def _parse_entry(number: int, item: str) -> tuple[date, Decimal]:
    date_text, colon, rate_text = item.partition(":")
    if not colon:
        raise InvalidInput(f"LPR history entry {number} ({item!r}) is not DATE:RATE, e.g. 2025-05-20:0.0300")
    try:
        effective = date.fromisoformat(date_text.strip())
    except ValueError:
        raise InvalidInput(f"LPR history entry {number} has no valid YYYY-MM-DD date: {item!r}") from None
    try:
        rate = Decimal(rate_text.strip())
    except InvalidOperation:
        raise InvalidInput(
            f"LPR history entry {number} has no valid rate: {item!r} (write 3.85 % as 0.0385)"
        ) from None
    return effective, rate


def _require_entry(number: int, entry: object) -> tuple[date, Decimal]:
    if not isinstance(entry, tuple) or len(entry) != 2:
        raise InvalidInput(f"LPR history entry {number} must be a (date, rate) pair, got {entry!r}")
    effective, rate = entry
    _require_date(f"LPR history entry {number}'s date", effective)
    if isinstance(rate, bool) or not isinstance(rate, Decimal) or not rate.is_finite():
        raise InvalidInput(f"LPR history entry {number}'s rate must be a finite Decimal, got {rate!r}")
    if not 0 < rate < 1:
        # Almost always a percentage typed where a fraction belongs.
        raise InvalidInput(f"LPR on {effective} must be a fraction in (0, 1), got {rate} (3.85 % is 0.0385)")
    return effective, rate


def _require_date(name: str, value: object) -> date:
    # A datetime is a date too, but a contract date with a time of day is a caller's mistake.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{name} must be a date, not {type(value).__name__}")
    return value


def _require_history(history: object) -> None:
    if not isinstance(history, LprHistory):
        raise InvalidInput(f"the LPR history must be an LprHistory, not {type(history).__name__}")


def _require_flows(flows: object) -> None:
    if not isinstance(flows, CashFlows):
        raise InvalidInput(f"the cash flows must be a CashFlows record, not {type(flows).__name__}")


def _rate(value: Decimal) -> Decimal:
    return value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _shown(rate: Decimal) -> Decimal:
    return rate.quantize(COMPARISON_STEP, rounding=ROUND_HALF_UP)


def _npv(flows: CashFlows, rate: Decimal) -> tuple[Decimal, Decimal]:
    """``f(i) = Σ R_k·v^k − received`` with ``v = 1/(1+i)``, and ``f'(i)``, by Horner's rule in ``v``."""
    v = 1 / (1 + rate)
    value, slope = Decimal(0), Decimal(0)  # the polynomial in v and its derivative in v
    for amount in reversed(flows.repayments):
        slope = slope * v + value
        value = value * v + amount
    # The loop leaves Σ R_k·v^(k−1); one more factor of v, and dv/di = −v².
    return value * v - flows.received, -(slope * v + value) * v * v


def _protected_repaid(flows: CashFlows, monthly_rate: Decimal) -> Decimal:
    """The total repaid when every repayment is scaled to repay ``received`` at exactly ``monthly_rate``."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        present_value = _npv(flows, monthly_rate)[0] + flows.received
        return flows.total_repaid * flows.received / present_value


def _bracket(flows: CashFlows) -> tuple[Decimal, Decimal]:
    """``(low, high)`` with ``f(low) > 0 > f(high)``."""
    if flows.total_repaid > flows.received:  # f(0) > 0: a positive rate
        if _npv(flows, _MAX_MONTHLY_IRR)[0] >= 0:
            raise InvalidInput(f"these cash flows imply {_MAX_MONTHLY_IRR * 100} % a month or more")
        return Decimal(0), _MAX_MONTHLY_IRR
    low = Decimal("-0.5")
    # f grows without bound as i nears −1: with a repayment of at least a fen and received at most
    # MAX_AMOUNT it turns positive within some 45 halvings, long before the 50 digits run out.
    while _npv(flows, low)[0] <= 0:
        low = (low - 1) / 2
    return low, Decimal(0)


def _solve(flows: CashFlows, low: Decimal, high: Decimal) -> Decimal:
    """The root of ``f`` in ``(low, high)`` to within the tolerance."""
    guess = low
    for _ in range(_NEWTON_STEPS):
        value, slope = _npv(flows, guess)
        if value == 0:
            return guess
        low, high = (guess, high) if value > 0 else (low, guess)
        if high - low <= _IRR_TOLERANCE:
            return (low + high) / 2
        step = -value / slope
        # Once Newton's step is below the tolerance, step just past the root to close the bracket.
        if abs(step) < _IRR_TOLERANCE / 2:
            step = (_IRR_TOLERANCE / 2).copy_sign(step)
        guess += step
        if not low < guess < high:  # rounding or a far start sent Newton outside: bisect instead
            guess = (low + high) / 2
    while high - low > _IRR_TOLERANCE:  # guaranteed: each pass halves the bracket
        middle = (low + high) / 2
        low, high = (middle, high) if _npv(flows, middle)[0] > 0 else (low, middle)
    return (low + high) / 2
