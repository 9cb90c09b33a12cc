"""The store enforces the case lifecycle on every write, and logs every move."""

from __future__ import annotations

from collections import deque

import pytest

from dialogs.domain import Actor, Role
from dialogs.errors import IllegalTransition, NotFound, PermissionDenied
from dialogs.lifecycle import TERMINAL, TRANSITIONS, CaseState, Mover, movers
from storage.store import SqlStore
from tests.storage.helpers import People, people

S = CaseState
_WHO = {Mover.BORROWER: "borrower", Mover.LENDER: "staff", Mover.OPERATOR: "operator", Mover.SYSTEM: "system"}


def path_to(state: CaseState) -> list[CaseState]:
    """The shortest legal path from draft to ``state``."""
    previous: dict[CaseState, CaseState | None] = {S.DRAFT: None}
    queue = deque([S.DRAFT])
    while queue:
        current = queue.popleft()
        for target in sorted(TRANSITIONS[current]):
            if target not in previous:
                previous[target] = current
                queue.append(target)
    path: list[CaseState] = []
    node: CaseState | None = state
    while node is not None and node != S.DRAFT:
        path.append(node)
        node = previous[node]
    return path[::-1]


def allowed_actor(p: People, current: CaseState, target: CaseState) -> Actor:
    return p.actor(_WHO[sorted(movers(current, target))[0]])


async def case_in(store: SqlStore, p: People, state: CaseState) -> int:
    case = await store.open_case(p.borrower.id, p.loan_id, p.actor("borrower"))
    current = S.DRAFT
    for target in path_to(state):
        await store.transition(case.id, target, allowed_actor(p, current, target))
        current = target
    return case.id


async def test_every_state_is_reachable_from_draft() -> None:
    assert all(path_to(state) or state == S.DRAFT for state in CaseState)


async def test_every_legal_transition_moves_the_case_and_logs_it(store: SqlStore) -> None:
    p = await people(store)
    for current in CaseState:
        for target in sorted(TRANSITIONS[current]):
            case_id = await case_in(store, p, current)
            before = await store.events(case_id)
            actor = allowed_actor(p, current, target)
            moved = await store.transition(case_id, target, actor, {"reason": "test"})
            assert moved.state is target, (current, target)
            events = await store.events(case_id)
            assert len(events) == len(before) + 1
            last = events[-1]
            assert (last.kind, last.from_state, last.to_state) == ("transition", current, target)
            assert last.actor_role == actor.role and last.actor_account_id == actor.account_id
            assert last.actor_channel == actor.channel and last.details == {"reason": "test"}


async def test_every_illegal_transition_is_refused_and_changes_nothing(store: SqlStore) -> None:
    p = await people(store)
    for current in CaseState:
        case_id = await case_in(store, p, current)
        before_case, before_events = await store.case(case_id), await store.events(case_id)
        for target in CaseState:
            if target in TRANSITIONS[current]:
                continue
            with pytest.raises(IllegalTransition, match=f"from '{current}' to '{target}'"):
                await store.transition(case_id, target, p.actor("operator"))
        assert await store.case(case_id) == before_case
        assert await store.events(case_id) == before_events


async def test_terminal_states_are_final(store: SqlStore) -> None:
    assert {S.COMPLETED, S.REJECTED, S.DEFAULTED, S.WITHDRAWN, S.CLOSED} == TERMINAL


async def test_a_role_that_may_not_make_a_move_is_refused(store: SqlStore) -> None:
    p = await people(store)
    case_id = await case_in(store, p, S.SUBMITTED)
    with pytest.raises(PermissionDenied, match="borrower may not"):
        await store.transition(case_id, S.APPROVED, p.actor("borrower"))
    with pytest.raises(PermissionDenied, match="lender may not"):
        await store.transition(case_id, S.APPROVED, p.actor("staff"))
    assert (await store.case(case_id)).state is S.SUBMITTED


async def test_parties_act_only_on_their_own_cases(store: SqlStore) -> None:
    p = await people(store)
    draft = await case_in(store, p, S.DRAFT)
    with pytest.raises(PermissionDenied, match="someone else"):
        await store.transition(draft, S.SUBMITTED, p.actor("other_borrower"))
    approved = await case_in(store, p, S.APPROVED)
    with pytest.raises(PermissionDenied, match="another lender"):
        await store.transition(approved, S.NEGOTIATING, p.actor("other_staff"))
    # a lender role claimed without a staff account behind it is refused too
    with pytest.raises(PermissionDenied, match="another lender"):
        await store.transition(approved, S.NEGOTIATING, Actor(Role.LENDER, p.borrower.channel, p.borrower.id))
    assert (await store.case(draft)).state is S.DRAFT
    assert (await store.case(approved)).state is S.APPROVED


async def test_opening_a_case_logs_it_and_checks_who_opens_it(store: SqlStore) -> None:
    p = await people(store)
    case = await store.open_case(p.borrower.id, p.loan_id, p.actor("borrower"))
    assert case.state is S.DRAFT and case.lender_id is not None
    (event,) = await store.events(case.id)
    assert (event.kind, event.to_state, event.actor_account_id) == ("opened", S.DRAFT, p.borrower.id)
    with pytest.raises(PermissionDenied):
        await store.open_case(p.borrower.id, p.loan_id, p.actor("other_borrower"))
    with pytest.raises(PermissionDenied):
        await store.open_case(p.staff.id, p.loan_id, p.actor("operator"))
    assert [c.id for c in await store.cases_of(p.borrower.id)] == [case.id]


async def test_unknown_case_is_not_found(store: SqlStore) -> None:
    p = await people(store)
    with pytest.raises(NotFound):
        await store.transition(999, S.SUBMITTED, p.actor("borrower"))
    with pytest.raises(NotFound):
        await store.events(999)


async def test_the_case_log_refuses_updates_and_deletes(store: SqlStore) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    p = await people(store)
    case_id = await case_in(store, p, S.SUBMITTED)
    for statement in ("UPDATE case_events SET kind = 'forged'", "DELETE FROM case_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with store.unit() as session:
                await session.execute(text(statement))
    assert [e.to_state for e in await store.events(case_id)] == [S.DRAFT, S.SUBMITTED]
