"""A loan's rate against the level that binds its lender (DESIGN §4), said the same way everywhere.

/legal, the plan list and the mediator's view all name which rule applies (four times the LPR for a
private lender, the regulators' financing-cost level for a licensed one), the simple annual rate that is
compared with it (monthly IRR × 12), the compound rate (labelled as such) and the money above the level.
"""

from __future__ import annotations

from typing import Any

from dialogs.domain import Loan
from dialogs.flows.base import Ctx
from dialogs.rules.interest import (
    CashFlows,
    InterestCheck,
    OverdueCharges,
    ProtectedRate,
    Regime,
    interest_check,
)


def protection(ctx: Ctx, loan: Loan) -> ProtectedRate:
    """The level that binds this loan's lender (its funder's kind where the loan book names one)."""
    return ctx.services.interest_law.protected(loan.lender_kind, loan.row.start_date)


def check_loan(ctx: Ctx, loan: Loan) -> InterestCheck:
    """The loan's disclosed rate and its overdue charges against that level."""
    row = loan.row
    flows = CashFlows.for_loan(row.principal, row.annual_rate, row.term_months)
    overdue = OverdueCharges(
        row.outstanding_principal, row.overdue_days, row.outstanding_interest, row.penalty, row.fees
    )
    return interest_check(row.start_date, flows, ctx.services.lpr, overdue, protected=protection(ctx, loan))


def rule_view(protected: ProtectedRate) -> dict[str, Any]:
    """Which rule sets the level, for the templates' ``rule_*`` labels."""
    return {
        "rule": "licensed" if protected.regime is Regime.LICENSED else "private",
        "protected": protected.rate,
        "lpr": protected.lpr,
        "indicative": protected.regime is Regime.PRE_2020_08_20,
    }


def check_view(loan: Loan, check: InterestCheck) -> dict[str, Any]:
    """Everything a reader is told about the loan's rate: the rule, both annual rates, the money above."""
    return rule_view(check.protected) | {
        "ref": loan.row.loan_ref,
        "lender_kind": loan.lender_kind.value,
        "contract_rate": loan.row.annual_rate,
        "simple": check.apr_simple,
        "apr": check.apr_compound,  # compound, labelled so; the simple rate is the one compared
        "above": check.above_protected,
        "over_cap": check.over_cap_amount,
        "charges_over_cap": check.penalties_and_fees_over_cap,
    }
