"""The case lifecycle of DESIGN §3, defined once; the store enforces it on every write.

    draft -> submitted -> approved -> negotiating -> agreed -> active -> completed
                |            |            |                      |
                v            v            v                      v
            rejected      expired     escalated (operator)    defaulted
    (any state before agreed) -> withdrawn (by borrower)
    draft -> disputed -> draft (operator corrected it) | closed
    expired, escalated -> negotiating (the mediator resumes it) | closed (with a reason)

Each move also says who may make it; the store checks the actor against it.
"""

from __future__ import annotations

from enum import StrEnum

from dialogs.errors import IllegalTransition


class CaseState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    NEGOTIATING = "negotiating"
    AGREED = "agreed"
    ACTIVE = "active"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    DEFAULTED = "defaulted"
    WITHDRAWN = "withdrawn"
    DISPUTED = "disputed"
    CLOSED = "closed"


# What a mediator types for a state in Chinese (/cases 协商中, state:协商中): each word is part of the
# state's Chinese label (templates/zh_CN/labels.j2, a test keeps them together), so the Chinese texts
# never have to show the English names.
STATE_WORDS_ZH = {
    "草稿": CaseState.DRAFT,
    "已提交": CaseState.SUBMITTED,
    "已通过审核": CaseState.APPROVED,
    "协商中": CaseState.NEGOTIATING,
    "已达成协议": CaseState.AGREED,
    "还款方案执行中": CaseState.ACTIVE,
    "已完成": CaseState.COMPLETED,
    "未获通过": CaseState.REJECTED,
    "未按时答复": CaseState.EXPIRED,
    "已转调解员处理": CaseState.ESCALATED,
    "已违约": CaseState.DEFAULTED,
    "已撤回": CaseState.WITHDRAWN,
    "有异议": CaseState.DISPUTED,
    "已结案": CaseState.CLOSED,
}


def state_named(word: str) -> CaseState | None:
    """The state a typed word names: its own English name, or its Chinese word; ``None`` for anything else."""
    word = word.strip()
    if word.lower() in {state.value for state in CaseState}:
        return CaseState(word.lower())
    return STATE_WORDS_ZH.get(word)


class Mover(StrEnum):
    """Who may move a case: a role, or the system (deadlines, schedules)."""

    BORROWER = "borrower"
    LENDER = "lender"
    OPERATOR = "operator"
    SYSTEM = "system"


S, M = CaseState, Mover
_MOVES: dict[tuple[CaseState, CaseState], frozenset[Mover]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({M.BORROWER}),
    (S.DRAFT, S.DISPUTED): frozenset({M.BORROWER}),
    (S.SUBMITTED, S.APPROVED): frozenset({M.OPERATOR}),
    (S.SUBMITTED, S.REJECTED): frozenset({M.OPERATOR}),
    (S.APPROVED, S.NEGOTIATING): frozenset({M.LENDER, M.OPERATOR}),
    (S.APPROVED, S.EXPIRED): frozenset({M.SYSTEM}),
    (S.NEGOTIATING, S.AGREED): frozenset({M.BORROWER, M.LENDER, M.SYSTEM}),
    (S.NEGOTIATING, S.ESCALATED): frozenset({M.BORROWER, M.LENDER, M.OPERATOR, M.SYSTEM}),
    (S.AGREED, S.ACTIVE): frozenset({M.BORROWER, M.LENDER, M.SYSTEM}),
    (S.ACTIVE, S.COMPLETED): frozenset({M.LENDER, M.OPERATOR, M.SYSTEM}),
    (S.ACTIVE, S.DEFAULTED): frozenset({M.OPERATOR, M.SYSTEM}),
    (S.EXPIRED, S.NEGOTIATING): frozenset({M.OPERATOR}),
    (S.EXPIRED, S.CLOSED): frozenset({M.OPERATOR}),
    (S.ESCALATED, S.NEGOTIATING): frozenset({M.OPERATOR}),
    (S.ESCALATED, S.CLOSED): frozenset({M.OPERATOR}),
    (S.DISPUTED, S.DRAFT): frozenset({M.OPERATOR}),
    (S.DISPUTED, S.CLOSED): frozenset({M.OPERATOR}),
}
# Withdrawal is the borrower's, at any point before agreement; the system withdraws abandoned drafts.
_BEFORE_AGREED = (S.DRAFT, S.SUBMITTED, S.APPROVED, S.NEGOTIATING, S.EXPIRED, S.ESCALATED, S.DISPUTED)
_MOVES.update({(state, S.WITHDRAWN): frozenset({M.BORROWER, M.SYSTEM}) for state in _BEFORE_AGREED})

TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    state: frozenset(target for (source, target) in _MOVES if source == state) for state in CaseState
}
TERMINAL: frozenset[CaseState] = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
INITIAL = S.DRAFT


def can_transition(current: CaseState, target: CaseState) -> bool:
    return (current, target) in _MOVES


def movers(current: CaseState, target: CaseState) -> frozenset[Mover]:
    """Who may make the move ``current -> target`` (empty when the lifecycle forbids it)."""
    return _MOVES.get((current, target), frozenset())


def check_transition(case_id: int, current: CaseState, target: CaseState) -> None:
    """Raise :class:`IllegalTransition` unless the lifecycle allows ``current -> target``."""
    if not can_transition(current, target):
        raise IllegalTransition(case_id, current.value, target.value)
