"""Property: whatever mix of answers, /back, /cancel and changes a borrower goes through, the application
they submit holds the figures and hardship they last gave, and a plan only if the stored figures bear out
its "affordable" mark (else no plan, for a mediator).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.domain import HardshipReason
from dialogs.flows.finances import NAMES as FIELDS
from dialogs.lifecycle import CaseState
from dialogs.messages import InboundKind
from storage.migrate import upgrade
from tests.conftest import FakeClock
from tests.dialogs.harness import Person, plain, running_bot
from tests.dialogs.test_navigation import reach, where
from tests.dialogs.test_nothing_lost import honest, stored

REASON_LABELS = {
    HardshipReason.JOB_LOSS: "Lost my job",
    HardshipReason.ILLNESS: "Illness or injury",
    HardshipReason.INCOME_CUT: "My income was cut",
}
FIELD_LABELS = dict(
    zip(
        FIELDS,
        (
            "Income",
            "Housing",
            "Food",
            "Utilities",
            "Transport",
            "Children and dependants",
            "Medical",
            "Other essentials",
            "Other debt payments",
            "Savings",
        ),
        strict=True,
    )
)
INITIAL = dict(
    zip(FIELDS, ("6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000"), strict=True)
)
AMOUNTS = st.integers(min_value=0, max_value=9000).map(str)
ACTIONS = st.one_of(
    st.tuples(st.just("type"), AMOUNTS),
    st.tuples(st.just("keep")),
    st.tuples(st.just("back")),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("correct"), st.sampled_from(FIELDS), AMOUNTS),
    st.tuples(st.just("confirm")),
    st.tuples(st.just("change_budget")),
    st.tuples(st.just("change_hardship"), st.sampled_from(list(REASON_LABELS)), st.booleans()),
    st.tuples(st.just("pick")),
)


class Borrower:
    """Drives the conversation and keeps the model: the last figures and hardship the person gave."""

    def __init__(self, person: Person, bot: object) -> None:
        self.person, self.bot = person, bot
        self.figures = dict(INITIAL)
        self.reason, self.lasting = HardshipReason.JOB_LOSS, False

    async def at(self) -> str:
        return await where(self.bot, self.person.user)  # type: ignore[arg-type]

    async def press_shown(self, label: str) -> bool:
        """Press a button of the latest question that contains ``label``, if it has one."""
        for message in reversed(self.person.last):
            for button in message.buttons:
                if label in plain(button.label):
                    await self.person.deliver(self.person.inbound(InboundKind.CHOICE, button.choice))
                    return True
        return False

    async def field(self) -> str | None:
        flow, _, step = (await self.at()).partition(":")
        return step if flow == "finances" and step in FIELDS else None

    async def run(self, action: tuple[object, ...]) -> None:
        kind, *args = action
        if kind == "type" and (name := await self.field()):
            await self.person.send(str(args[0]))
            self.figures[name] = str(args[0])
        elif kind == "keep" and await self.field():
            await self.press_shown("Keep")
        elif kind == "back":
            await self.person.send("/back")
        elif kind == "cancel":
            await self.person.send("/cancel")
            await self.press_shown("Continue my application")
        elif kind == "correct" and await self.at() == "finances:summary":
            name, amount = str(args[0]), str(args[1])
            await self.press_shown("Correct a figure")
            await self.press_shown(FIELD_LABELS[name])
            await self.person.send(amount)
            self.figures[name] = amount
        elif kind == "confirm" and await self.at() == "finances:summary":
            await self.press_shown("Yes")
        elif kind == "change_budget" and await self.at() == "submit:review":
            await self.press_shown("Change budget")
        elif kind == "change_hardship" and await self.at() == "submit:review":
            reason, lasting = args[0], bool(args[1])
            assert isinstance(reason, HardshipReason)
            await self.press_shown("Change hardship")
            await self.press_shown(REASON_LABELS[reason])
            await self.press_shown("It will last" if lasting else "It will pass")
            await self.press_shown("Keep what I wrote")
            self.reason, self.lasting = reason, lasting
        elif kind == "pick" and await self.at() == "plans:options":
            await self.press_shown("¥") or await self.press_shown("Ask a mediator")

    async def finish(self) -> None:
        """Go on to the end: confirm the budget as last typed, choose a plan if asked, submit."""
        await self.person.send("/cancel")
        await self.press_shown("Continue my application")
        for _ in range(40):
            here = await self.at()
            if here == "submit:review":
                if not await self._confirmed():
                    await self.press_shown("Change budget")
                    continue
                await self.press_shown("Submit")
                return
            await self._forward(here)
        raise AssertionError(f"stuck at {await self.at()}: {self.person.texts()}")

    async def _confirmed(self) -> bool:
        held = await stored(self.bot, self.person.user)  # type: ignore[arg-type]
        return held.finances is not None and all(
            getattr(held.finances, name) == Decimal(value) for name, value in self.figures.items()
        )

    async def _forward(self, here: str) -> None:
        if await self.field() is not None:
            # Every figure was given before: the question must offer it back, never ask it blank.
            assert await self.press_shown("Keep"), self.person.texts()
        elif here == "finances:summary":
            await self.press_shown("Yes")
        elif here == "plans:options":
            await self.press_shown("¥") or await self.press_shown("Ask a mediator")
        elif here == "hardship:description":
            await self.press_shown("Keep what I wrote")
        elif here == "hardship:evidence":
            await self.press_shown("Skip")
        elif here in ("hardship:reason", "hardship:duration"):
            await self.press_shown(REASON_LABELS[self.reason])
            await self.press_shown("It will last" if self.lasting else "It will pass")
        else:
            await self.person.send("/cancel")
            await self.press_shown("Continue my application")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nothing_lost") / "template.db"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    return path


async def _scenario(database: Path, actions: list[tuple[object, ...]]) -> None:
    async with running_bot(f"sqlite:///{database}", FakeClock()) as bot:
        borrower = Borrower(bot.person("alice"), bot)
        await reach(borrower.person, bot, "submit:review")
        for action in actions:
            await borrower.run(action)
            assert "went wrong on our side" not in borrower.person.texts()
        await borrower.finish()
        held = await stored(bot, "alice")
        assert held.state is CaseState.SUBMITTED, borrower.person.texts()
        assert held.finances is not None and held.hardship is not None
        assert {name: getattr(held.finances, name) for name in FIELDS} == {
            name: Decimal(value) for name, value in borrower.figures.items()
        }
        assert (held.hardship.reason, held.hardship.lasting) == (borrower.reason, borrower.lasting)
        assert held.hardship.description == "I lost my job."
        assert held.plan is None or await honest(bot, "alice", held.plan)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTIONS, max_size=14))
def test_the_submitted_application_holds_what_was_last_typed(
    migrated: Path, actions: list[tuple[object, ...]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "property.db"
        shutil.copy(migrated, database)
        asyncio.run(_scenario(database, actions))
