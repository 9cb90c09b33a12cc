"""Repayment-plan options (DESIGN §4): each kind of plan a borrower could ask for, judged and ranked.

What each kind repays (P principal, I accrued interest, r the plan's rate; "arrears" are I, penalty, fees)::

    term extension 等额本息 / 等额本金   everything: P amortised at r over more months, the arrears beside it
                                        in interest-free equal parts
    interest stopped 停息挂账            P and a share of I in equal parts, no interest, at most 60 months
    penalty and fee waiver              P amortised at r, I in equal parts; penalty and fees waived
    partial interest waiver             as the waiver above, with a share of I and of the rate waived too
    discounted settlement               one lump sum off P + I, penalty and fees waived; void if missed
    payment holiday                     1–3 months with nothing due and nothing accruing, then the term
                                        extension 等额本息 (temporary hardship only)

A plan's rate r is the lower of the contract rate and the level the courts protect for this loan
(:attr:`Balance.protected_rate`), and its arrears are the overdue interest, penalty and fees the law
protects (:func:`dialogs.rules.interest.within_cap`; the rest, :attr:`Balance.above_limit`, is not charged):
LoanBridge never proposes a plan that charges more than the law protects.
Only a lender's own counter-offer may go above it (:func:`validate_proposal` with ``lender=True``), and
then the option says by how much money (:attr:`PlanOption.above_protected`).

Arrears carry no further interest: interest on interest and on penalties is what a hardship plan stops.
In a plan's schedule an instalment's ``principal`` is the part of the carried debt (arrears included) it
repays and ``interest`` the new interest the plan charges. Money rounds as in :mod:`dialogs.rules.schedules`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from dialogs.errors import InvalidInput
from dialogs.rules.affordability import DEFAULT_AFFORDABLE_SHARE, Affordability, Finances, assess
from dialogs.rules.interest import OverdueCharges, within_cap
from dialogs.rules.money import FEN, ZERO, floor_fen, require_money, to_fen
from dialogs.rules.schedules import (
    MAX_MONTHLY_RATE,
    MAX_MONTHS,
    Row,
    Schedule,
    equal_instalment,
    equal_instalment_payment,
    equal_parts,
    equal_principal,
    require_fraction,
    require_months,
    require_rate,
)

MAX_INTEREST_STOPPED_MONTHS = 60  # 停息挂账 is granted for at most five years
MAX_HOLIDAY_MONTHS = 3  # a holiday bridges a temporary gap; longer is a different conversation


class PlanKind(StrEnum):
    """The kinds of plan, in the order that breaks ties when ranking (most familiar first)."""

    TERM_EXTENSION_EQUAL_INSTALMENT = "term_extension_equal_instalment"
    TERM_EXTENSION_EQUAL_PRINCIPAL = "term_extension_equal_principal"
    INTEREST_STOPPED_INSTALMENTS = "interest_stopped_instalments"
    PENALTY_FEE_WAIVER = "penalty_fee_waiver"
    PARTIAL_INTEREST_WAIVER = "partial_interest_waiver"
    DISCOUNTED_SETTLEMENT = "discounted_settlement"
    PAYMENT_HOLIDAY = "payment_holiday"


_KIND_ORDER = {kind: index for index, kind in enumerate(PlanKind)}


@dataclass(frozen=True, slots=True)
class Balance:
    """What is owed on a loan; ``annual_rate`` is the contract rate as a fraction (0.18 is 18 %).

    ``protected_rate`` is the highest annual rate the law protects for this loan (DESIGN §4), ``None``
    when unknown; plans charge :attr:`plan_rate`, the lower of the two. With ``overdue_days`` known too,
    interest, penalty and fees together are held to what that rate gives for the delay (the same cap
    /legal reports, :func:`~dialogs.rules.interest.charges_check`): plans are made on the ``payable_*``
    figures and the excess, :attr:`above_limit`, is not charged.
    """

    outstanding_principal: Decimal
    outstanding_interest: Decimal
    penalty: Decimal
    fees: Decimal
    annual_rate: Decimal
    remaining_term_months: int = 0
    protected_rate: Decimal | None = None
    overdue_days: int | None = None

    def __post_init__(self) -> None:
        for name in ("outstanding_principal", "outstanding_interest", "penalty", "fees"):
            object.__setattr__(self, name, require_money(name.replace("_", " "), getattr(self, name)))
        rate = require_rate("the annual rate", self.annual_rate, maximum=MAX_MONTHLY_RATE * 12)
        object.__setattr__(self, "annual_rate", rate)
        if self.protected_rate is not None:
            require_rate("the protected rate", self.protected_rate, maximum=MAX_MONTHLY_RATE * 12)
        term = self.remaining_term_months
        if isinstance(term, bool) or not isinstance(term, int) or not 0 <= term <= MAX_MONTHS:
            raise InvalidInput(f"the remaining term must be from 0 to {MAX_MONTHS} months, got {term!r}")
        days = self.overdue_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            raise InvalidInput(f"overdue days must be a whole number of days, zero or more, got {days!r}")
        # Worked out once: every plan of a set reads the payable figures.
        object.__setattr__(self, "_payable", self._within_cap())

    _payable: OverdueCharges | None = field(default=None, init=False, repr=False, compare=False)

    def _within_cap(self) -> OverdueCharges | None:
        if self.protected_rate is None or self.overdue_days is None or self.protected_rate == 0:
            return None
        charges = OverdueCharges(
            self.outstanding_principal, self.overdue_days, self.outstanding_interest, self.penalty, self.fees
        )
        return within_cap(charges, min(self.protected_rate, Decimal(1) - FEN))

    @property
    def total(self) -> Decimal:
        """Everything the lender's records say is owed, the charges above the legal limit included."""
        return self.outstanding_principal + self.outstanding_interest + self.penalty + self.fees

    @property
    def payable_interest(self) -> Decimal:
        return self.outstanding_interest if self._payable is None else self._payable.overdue_interest

    @property
    def payable_penalty(self) -> Decimal:
        return self.penalty if self._payable is None else self._payable.penalty

    @property
    def payable_fees(self) -> Decimal:
        return self.fees if self._payable is None else self._payable.fees

    @property
    def payable_total(self) -> Decimal:
        """What plans are made on: the principal and the charges the law protects."""
        return self.outstanding_principal + self.payable_interest + self.payable_penalty + self.payable_fees

    @property
    def above_limit(self) -> Decimal:
        """Overdue interest, penalty and fees above their legal limit: no plan LoanBridge proposes asks it."""
        return self.total - self.payable_total

    @property
    def plan_rate(self) -> Decimal:
        """The annual rate a plan charges: the contract's, but never above the protected level."""
        if self.protected_rate is None:
            return self.annual_rate
        return min(self.annual_rate, self.protected_rate)


@dataclass(frozen=True, slots=True)
class PlanPolicy:
    """A lender's knobs, with defaults that reflect common Chinese hardship practice."""

    affordable_share: Decimal = DEFAULT_AFFORDABLE_SHARE
    # Terms a borrower is shown; each kind offers the shortest that is affordable.
    term_lengths: tuple[int, ...] = (6, 12, 18, 24, 36, 48, 60)
    interest_stopped_max_months: int = MAX_INTEREST_STOPPED_MONTHS
    # 停息挂账 usually repays principal only; some lenders ask for part of the accrued interest too.
    interest_stopped_interest_share: Decimal = Decimal(0)
    # A lump sum today is worth a discount to a lender facing years of uncertain collection.
    settlement_discount: Decimal = Decimal("0.3")
    partial_interest_waiver_share: Decimal = Decimal("0.5")
    holiday_months: int = MAX_HOLIDAY_MONTHS

    def __post_init__(self) -> None:
        require_fraction("the affordable share", self.affordable_share, allow_zero=False)
        terms = self.term_lengths
        if not isinstance(terms, tuple) or not terms:
            raise InvalidInput("the term lengths must be a non-empty tuple of months")
        checked = {require_months("a term length", months) for months in terms}
        object.__setattr__(self, "term_lengths", tuple(sorted(checked)))
        require_months("the 停息挂账 limit", self.interest_stopped_max_months, maximum=60)
        require_fraction("the 停息挂账 interest share", self.interest_stopped_interest_share, allow_zero=True)
        require_fraction(
            "the settlement discount", self.settlement_discount, allow_zero=True, allow_one=False
        )
        require_fraction("the interest waiver share", self.partial_interest_waiver_share, allow_zero=True)
        require_months("the payment holiday", self.holiday_months, maximum=MAX_HOLIDAY_MONTHS)


DEFAULT_POLICY = PlanPolicy()


@dataclass(frozen=True, slots=True)
class PlanOption:
    """One plan as shown: ``monthly_amount`` is the regular (for 等额本金 the first, largest) instalment."""

    kind: PlanKind
    months: int
    monthly_amount: Decimal
    last_amount: Decimal
    largest_amount: Decimal  # what affordability is judged on
    total_repaid: Decimal
    # What of today's payable balance the plan does not repay (the schedule's principal parts are the
    # debt it carries); new interest is shown by its rate, not netted against this, and what the law does
    # not protect is ``above_limit``, not "waived".
    amount_waived: Decimal
    # The rate the plan charges, 0 when interest is stopped; None for a lender's offer above the protected
    # level, whose payments (not a rate) were proposed: its cost is ``above_protected``.
    annual_rate: Decimal | None
    holiday_months: int
    affordable: bool
    void_if_missed: bool  # a discounted settlement falls away if its payment is missed
    schedule: Schedule
    # What the plan repays above the same plan at the protected rate: only a lender's offer has any.
    above_protected: Decimal = ZERO
    # Overdue interest, penalty and fees above their legal limit, not charged (Balance.above_limit).
    above_limit: Decimal = ZERO

    @property
    def duration_months(self) -> int:
        return self.holiday_months + self.months


@dataclass(frozen=True, slots=True)
class PlanSet:
    """Every option, ranked: affordable first, then least repaid, then shortest, then kind order."""

    options: tuple[PlanOption, ...]
    affordability: Affordability

    @property
    def affordable(self) -> tuple[PlanOption, ...]:
        return tuple(option for option in self.options if option.affordable)

    @property
    def nothing_affordable(self) -> bool:
        """True when no plan fits: the bot says so plainly and routes the case to an operator."""
        return not any(option.affordable for option in self.options)


@dataclass(frozen=True, slots=True)
class _Terms:
    """What a kind carries into its schedule: ``amortised`` at a rate, ``arrears`` in interest-free parts."""

    kind: PlanKind
    amortised: Decimal
    arrears: Decimal
    annual_rate: Decimal
    equal_principal: bool = False
    holiday_months: int = 0

    @property
    def carried(self) -> Decimal:
        return self.amortised + self.arrears

    def first_amount(self, months: int) -> Decimal:
        """The first instalment without building the schedule: the same rounding, for one month."""
        rate = self.annual_rate / 12
        interest = to_fen(self.amortised * rate) if rate else ZERO
        if self.equal_principal:
            part = to_fen(self.amortised / months)
        else:
            payment = equal_instalment_payment(self.amortised, rate, months)
            part = max(payment - interest, ZERO)
        return min(part, self.amortised) + interest + floor_fen(self.arrears / months)

    def schedule(self, months: int) -> Schedule:
        rate = self.annual_rate / 12
        build = equal_principal if self.equal_principal else equal_instalment
        return build(self.amortised, rate, months, interest_free=self.arrears)


def plan_options(
    balance: Balance, finances: Finances, policy: PlanPolicy = DEFAULT_POLICY, *, temporary_hardship: bool
) -> PlanSet:
    """One option per kind (the shortest affordable term, else the longest, shown as not affordable), ranked.

    A discounted settlement appears only when savings cover it; a payment holiday only for temporary
    hardship. Every other kind is shown even when it does not fit, so the borrower sees why.
    """
    _require_inputs(balance, finances, policy)
    if not isinstance(temporary_hardship, bool):
        raise InvalidInput("temporary_hardship must be True or False")
    if balance.payable_total == 0:
        raise InvalidInput("nothing is owed on this balance: there is no plan to make")
    affordability = assess(finances, policy.affordable_share)
    options = []
    for kind in PlanKind:
        terms = _terms(balance, kind, policy)
        if kind is PlanKind.PAYMENT_HOLIDAY or terms.carried == 0:
            continue  # nothing left to repay would be a full waiver: the lender's call, not a plan
        if kind is PlanKind.PENALTY_FEE_WAIVER and balance.payable_penalty + balance.payable_fees == 0:
            continue  # nothing of them is payable (none, or all above the legal limit): the term extension
        limit = _limit(kind, finances, affordability)
        option = _best(balance, terms, candidate_terms(balance, kind, policy), limit)
        if option.affordable or kind is not PlanKind.DISCOUNTED_SETTLEMENT:
            options.append(option)
        if kind is PlanKind.TERM_EXTENSION_EQUAL_INSTALMENT and temporary_hardship:
            # The holiday defers this extension without interest: the same instalments, later.
            holiday = policy.holiday_months
            options.append(replace(option, kind=PlanKind.PAYMENT_HOLIDAY, holiday_months=holiday))
    options.sort(key=_rank)
    return PlanSet(options=tuple(options), affordability=affordability)


def option_for(
    balance: Balance, kind: PlanKind, months: int, *, finances: Finances, policy: PlanPolicy = DEFAULT_POLICY
) -> PlanOption:
    """The plan of ``kind`` over exactly ``months`` (a settlement is 1), judged against ``finances``."""
    _require_inputs(balance, finances, policy)
    terms = _terms(balance, _require_kind(kind), policy)
    months = _require_term(kind, months, policy)
    if terms.carried == 0:
        raise InvalidInput(f"a {kind.value} plan would leave nothing to repay on this balance")
    schedule = terms.schedule(months)
    limit = _limit(kind, finances, assess(finances, policy.affordable_share))
    return _option(balance, terms, schedule, affordable=schedule.largest_amount <= limit)


def validate_proposal(
    balance: Balance,
    kind: PlanKind,
    months: int,
    monthly_amount: Decimal,
    *,
    finances: Finances,
    policy: PlanPolicy = DEFAULT_POLICY,
    lender: bool = False,
) -> PlanOption:
    """Check someone's own terms: ``months`` payments of ``monthly_amount`` must repay what ``kind`` requires.

    The plan keeps the total its kind requires over those months; the proposal only reshapes the payments
    (each pays interest first, the last pays the rest). Too little (below :func:`minimum_monthly`, the
    rule the list is rounded by) is refused with the minimum; so much that the last month is not needed
    is refused with the shorter term.

    A ``lender`` may ask for more, up to the same plan at the contract rate: its payments are then kept as
    proposed, and ``above_protected`` says what they repay above the plan at the protected rate.
    """
    reference = option_for(balance, kind, months, finances=finances, policy=policy)
    monthly = require_money("the monthly amount", monthly_amount, allow_zero=False)
    required = reference.total_repaid
    above = ZERO
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        schedule = _settlement_proposal(balance, required, monthly)
    else:
        ceiling = required
        if lender:
            uncapped = replace(balance, protected_rate=None)
            ceiling = option_for(uncapped, kind, months, finances=finances, policy=policy).total_repaid
        _require_covers(kind, reference, monthly, ceiling)
        if monthly == reference.monthly_amount and not lender:
            return reference  # a listed amount typed back is the listed plan, to the fen
        total = max(required, min(monthly * months, ceiling))
        above = total - required
        schedule = _flat_schedule(reference.schedule.principal_total, total, monthly, months)
    limit = _limit(kind, finances, assess(finances, policy.affordable_share))
    terms = _terms(balance, kind, policy)
    option = _option(balance, terms, schedule, affordable=schedule.largest_amount <= limit)
    if not above:
        return option
    # A lender's offer above the kind's figure may ask some of the charges above the limit too: what it asks
    # above the law is then said as one figure, ``above_protected``. Above the kind's own figure is not
    # above the law: a kind that waives interest asks less than the law protects, so its excess is measured
    # against the same shape with all its interest at the protected rate over the same months.
    legal = _protected_total(balance, kind, months, required, finances=finances, policy=policy)
    return replace(
        option, annual_rate=None, above_protected=max(ZERO, option.total_repaid - legal), above_limit=ZERO
    )


_INTEREST_WAIVED = frozenset({PlanKind.PARTIAL_INTEREST_WAIVER, PlanKind.INTEREST_STOPPED_INSTALMENTS})


def _protected_total(
    balance: Balance,
    kind: PlanKind,
    months: int,
    required: Decimal,
    *,
    finances: Finances,
    policy: PlanPolicy,
) -> Decimal:
    """The most "the same plan at the interest rate the law protects" repays over ``months``: the kind's
    own total, or for a kind that waives interest, the same with all its interest at the protected rate."""
    if kind not in _INTEREST_WAIVED:
        return required
    full = option_for(balance, PlanKind.PENALTY_FEE_WAIVER, months, finances=finances, policy=policy)
    return max(required, full.total_repaid)


def minimum_monthly(option: PlanOption) -> Decimal:
    """The least regular instalment accepted for ``option``'s kind and term; the last pays the rest.

    One rule for the list and for own terms: the amount the list shows (the last instalment absorbing the
    fen rounding left) or the total spread evenly and rounded up to the fen, whichever is lower. So typing
    a listed amount is always accepted.
    """
    even = (option.total_repaid / option.months).quantize(FEN, rounding=ROUND_CEILING)
    return min(option.monthly_amount, even)


def finish_months(
    balance: Balance,
    kind: PlanKind,
    monthly_amount: Decimal,
    *,
    finances: Finances,
    policy: PlanPolicy = DEFAULT_POLICY,
) -> int | None:
    """The fewest months in which ``monthly_amount`` is accepted as the regular instalment of ``kind``.

    The same rule as the list and :func:`validate_proposal` (:func:`minimum_monthly`), so the term a
    refusal suggests is one the list would show at that amount and own terms accept. ``None`` when even
    the kind's longest term needs more. The minimum never rises with the term, so a bisection finds it.
    """
    monthly = require_money("the monthly amount", monthly_amount, allow_zero=False)

    def enough(months: int) -> bool:
        option = option_for(balance, kind, months, finances=finances, policy=policy)
        return minimum_monthly(option) <= monthly

    low, high = 1, max_months(kind, policy)
    if not enough(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return low


def max_months(kind: PlanKind, policy: PlanPolicy = DEFAULT_POLICY) -> int:
    """The longest term a plan of ``kind`` may run: what to ask for and what is accepted."""
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        return 1
    if kind is PlanKind.INTEREST_STOPPED_INSTALMENTS:
        return policy.interest_stopped_max_months
    return MAX_MONTHS


def candidate_terms(balance: Balance, kind: PlanKind, policy: PlanPolicy = DEFAULT_POLICY) -> tuple[int, ...]:
    """The terms offered for ``kind``, shortest first: longer than the remaining term where possible."""
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        return (1,)
    if kind is PlanKind.INTEREST_STOPPED_INSTALMENTS:
        cap = policy.interest_stopped_max_months
        return tuple(t for t in policy.term_lengths if t <= cap) or (cap,)
    remaining = balance.remaining_term_months
    longer = tuple(t for t in policy.term_lengths if t > remaining)
    # A loan already longer than every configured term is extended by those terms instead.
    extended = longer or tuple(sorted({min(remaining + t, MAX_MONTHS) for t in policy.term_lengths}))
    if remaining and kind in (PlanKind.PENALTY_FEE_WAIVER, PlanKind.PARTIAL_INTEREST_WAIVER):
        return tuple(sorted({remaining, *extended}))  # a waiver may keep the contract's own term
    return extended


def _terms(balance: Balance, kind: PlanKind, policy: PlanPolicy) -> _Terms:
    principal, interest = balance.outstanding_principal, balance.payable_interest
    arrears = interest + balance.payable_penalty + balance.payable_fees
    rate = balance.plan_rate
    match kind:
        case PlanKind.TERM_EXTENSION_EQUAL_PRINCIPAL:
            terms = _Terms(kind, principal, arrears, rate, equal_principal=True)
        case PlanKind.PAYMENT_HOLIDAY:
            terms = _Terms(kind, principal, arrears, rate, holiday_months=policy.holiday_months)
        case PlanKind.INTEREST_STOPPED_INSTALMENTS:
            kept = to_fen(interest * policy.interest_stopped_interest_share)
            terms = _Terms(kind, ZERO, principal + kept, ZERO)
        case PlanKind.PENALTY_FEE_WAIVER:
            terms = _Terms(kind, principal, interest, rate)
        case PlanKind.PARTIAL_INTEREST_WAIVER:
            share = policy.partial_interest_waiver_share
            terms = _Terms(kind, principal, interest - to_fen(interest * share), rate * (1 - share))
        case PlanKind.DISCOUNTED_SETTLEMENT:
            lump = to_fen((principal + interest) * (1 - policy.settlement_discount))
            terms = _Terms(kind, ZERO, lump, ZERO)
        case _:  # term extension, 等额本息
            terms = _Terms(kind, principal, arrears, rate)
    return terms


def _best(balance: Balance, terms: _Terms, candidates: tuple[int, ...], limit: Decimal) -> PlanOption:
    # The first instalment never rises with the term, so a bisection finds the first term it fits in;
    # only then is a schedule built, to check its largest instalment (the last may carry rounding).
    low, high = 0, len(candidates)
    while low < high:
        middle = (low + high) // 2
        if terms.first_amount(candidates[middle]) <= limit:
            high = middle
        else:
            low = middle + 1
    for months in candidates[low:]:
        schedule = terms.schedule(months)
        if schedule.largest_amount <= limit:
            return _option(balance, terms, schedule, affordable=True)
    return _option(balance, terms, terms.schedule(candidates[-1]), affordable=False)


def _option(balance: Balance, terms: _Terms, schedule: Schedule, *, affordable: bool) -> PlanOption:
    total = schedule.total
    return PlanOption(
        kind=terms.kind,
        months=schedule.months,
        monthly_amount=schedule.first_amount,
        last_amount=schedule.last_amount,
        largest_amount=schedule.largest_amount,
        total_repaid=total,
        amount_waived=max(balance.payable_total - schedule.principal_total, ZERO),
        above_limit=balance.above_limit,
        annual_rate=terms.annual_rate,
        holiday_months=terms.holiday_months,
        affordable=affordable,
        void_if_missed=terms.kind is PlanKind.DISCOUNTED_SETTLEMENT,
        schedule=schedule,
    )


def _rank(option: PlanOption) -> tuple[bool, Decimal, int, int]:
    return (not option.affordable, option.total_repaid, option.duration_months, _KIND_ORDER[option.kind])


def _limit(kind: PlanKind, finances: Finances, affordability: Affordability) -> Decimal:
    # A lump sum comes out of savings; everything else out of the monthly budget.
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        return finances.savings
    return affordability.affordable_instalment


def _require_covers(kind: PlanKind, reference: PlanOption, monthly: Decimal, ceiling: Decimal) -> None:
    months, minimum = reference.months, minimum_monthly(reference)
    if monthly < minimum:
        raise InvalidInput(
            f"{months} payments of {monthly} do not cover the {reference.total_repaid} a {kind.value}"
            f" plan needs over {months} months: the minimum is {minimum} a month"
        )
    if monthly * (months - 1) >= ceiling:
        needed = int((ceiling / monthly).to_integral_value(rounding=ROUND_CEILING))
        raise InvalidInput(
            f"at {monthly} a month the plan is repaid in {needed} months: propose {needed} months"
        )


def _settlement_proposal(balance: Balance, required: Decimal, amount: Decimal) -> Schedule:
    if amount < required:
        raise InvalidInput(f"a settlement needs at least {required} in one payment, not {amount}")
    if amount > balance.payable_total:
        raise InvalidInput(f"{amount} is more than the whole balance of {balance.payable_total}")
    return equal_parts(amount, 1)


def _flat_schedule(principal: Decimal, total: Decimal, monthly: Decimal, months: int) -> Schedule:
    # ``total`` repaying ``principal``, paid at ``monthly`` a month, interest first (as 民法典 art. 561
    # orders a payment that does not cover everything); the last instalment pays what is left.
    interest_due, remaining = total - principal, principal
    rows: list[Row] = []
    for number in range(1, months + 1):
        amount = remaining + interest_due if number == months else monthly
        interest = min(amount, interest_due)
        interest_due -= interest
        remaining -= amount - interest
        rows.append((number, amount - interest, interest, amount, remaining))
    return Schedule(tuple(rows))


def _require_inputs(balance: object, finances: object, policy: object) -> None:
    for name, value, expected in (
        ("balance", balance, Balance),
        ("finances", finances, Finances),
        ("policy", policy, PlanPolicy),
    ):
        if not isinstance(value, expected):
            raise InvalidInput(f"{name} must be a {expected.__name__}, not {type(value).__name__}")


def _require_kind(kind: object) -> PlanKind:
    if not isinstance(kind, PlanKind):
        raise InvalidInput(f"unknown plan kind: {kind!r}")
    return kind


def _require_term(kind: PlanKind, months: object, policy: PlanPolicy) -> int:
    if kind is PlanKind.DISCOUNTED_SETTLEMENT:
        if isinstance(months, bool) or not isinstance(months, int) or months != 1:
            raise InvalidInput("a settlement is a single payment: its term is 1 month")
        return 1
    if kind is PlanKind.INTEREST_STOPPED_INSTALMENTS:
        return require_months("a 停息挂账 term", months, maximum=max_months(kind, policy))
    return require_months("the term", months, maximum=max_months(kind, policy))
