"""Benchmark: the full ranked plan-option set per case (DESIGN §8 target: ≤ 1 ms per case).

Run ``python bench/plans.py`` with the package installed (``pip install -e .``) or ``PYTHONPATH=.``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

try:
    import dialogs  # noqa: F401  (only checks the package is importable)
except ModuleNotFoundError:  # run from a checkout without an install: use the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialogs.rules.affordability import Finances
from dialogs.rules.plans import Balance, PlanSet, plan_options

TARGET_MS = 1.0
RATES = ("0.036", "0.049", "0.072", "0.12", "0.18", "0.24", "0.36")


def _yuan(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def make_case(rng: random.Random) -> tuple[Balance, Finances, bool]:
    """A borrower and loan of the kind the bot sees: consumer loans to small mortgages, mostly overdue."""
    principal = _yuan(rng, 1_000, rng.choice((20_000, 100_000, 500_000)))
    balance = Balance(
        outstanding_principal=principal,
        outstanding_interest=(principal * Decimal(rng.uniform(0, 0.2))).quantize(Decimal("0.01")),
        penalty=(principal * Decimal(rng.uniform(0, 0.05))).quantize(Decimal("0.01")),
        fees=_yuan(rng, 0, 500),
        annual_rate=Decimal(rng.choice(RATES)),
        remaining_term_months=rng.choice((0, 0, 3, 6, 12, 24, 36, 120)),
    )
    income = _yuan(rng, 2_000, 30_000)
    finances = Finances(
        net_monthly_income=income,
        housing=(income * Decimal(rng.uniform(0.1, 0.4))).quantize(Decimal("0.01")),
        food=_yuan(rng, 600, 3_000),
        utilities=_yuan(rng, 100, 600),
        transport=_yuan(rng, 0, 800),
        children=_yuan(rng, 0, 3_000),
        medical=_yuan(rng, 0, 1_000),
        other=_yuan(rng, 0, 500),
        other_debt_payments=_yuan(rng, 0, 4_000),
        savings=_yuan(rng, 0, rng.choice((1_000, 20_000, 200_000))),
    )
    return balance, finances, rng.random() < 0.5


def run(cases: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    inputs = [make_case(rng) for _ in range(cases)]
    for balance, finances, hardship in inputs[:200]:  # warm-up: caches, allocator, branch history
        plan_options(balance, finances, temporary_hardship=hardship)
    timings = []
    results: list[PlanSet] = []
    for balance, finances, hardship in inputs:
        start = time.perf_counter_ns()
        result = plan_options(balance, finances, temporary_hardship=hardship)
        timings.append(time.perf_counter_ns() - start)
        results.append(result)
    nothing = sum(result.nothing_affordable for result in results)
    print(f"{cases} cases, {nothing} with nothing affordable (routed to an operator)")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20250520)
    args = parser.parse_args()
    timings = sorted(run(args.cases, args.seed))
    mean = statistics.fmean(timings) / 1e6
    p50 = timings[len(timings) // 2] / 1e6
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] / 1e6
    print(
        f"plans: mean {mean:.3f} ms/case, p50 {p50:.3f} ms, p99 {p99:.3f} ms"
        f" (target ≤ {TARGET_MS:g} ms: mean {mean / TARGET_MS:.2f}×, p99 {p99 / TARGET_MS:.2f}× the budget)"
    )


if __name__ == "__main__":
    main()
