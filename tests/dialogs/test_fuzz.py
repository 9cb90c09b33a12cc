"""Whatever arrives at whatever step (any text, any unicode, 100 kB, forged buttons, stickers), the bot
answers, never crashes, and stays where it was or moves on as the flow allows.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.messages import InboundKind
from storage.migrate import upgrade
from tests.conftest import FakeClock
from tests.dialogs.harness import plain, running_bot
from tests.dialogs.test_navigation import NAMES, reach, where

TEXTS = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.just("名" * 100_000),
    st.just("x" * 100_000),
    st.sampled_from(["0", "-1", "1e9", "NaN", "Infinity", "¥1,000.00", "   ", "\x00", "3.14159", "１２３"]),
    st.text(max_size=30).map(lambda s: "/" + s),
)
MESSAGES = st.one_of(
    TEXTS.map(lambda text: (InboundKind.TEXT, text)),
    st.text(max_size=80).map(lambda data: (InboundKind.CHOICE, data)),
    st.just((InboundKind.UNSUPPORTED, "sticker")),
    st.just((InboundKind.FILE, "")),
)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    return path


async def _scenario(database: Path, step: str, messages: list[tuple[InboundKind, str]]) -> None:
    async with running_bot(f"sqlite:///{database}", FakeClock()) as bot:
        alice = bot.person("alice")
        await reach(alice, bot, step)
        for kind, payload in messages:
            replies = await alice.deliver(alice.inbound(kind, payload))
            assert replies, f"no reply to {kind.value} {payload[:40]!r} at {step}"
            assert not any("went wrong on our side" in plain(r.text) for r in replies), alice.texts()
            assert all(len(r.text) < 20_000 for r in replies)  # nothing echoes a huge message back
        assert await where(bot, "alice")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from(NAMES), messages=st.lists(MESSAGES, min_size=1, max_size=4))
def test_anything_at_any_step_gets_a_kind_reply(
    migrated: Path, step: str, messages: list[tuple[InboundKind, str]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "fuzz.db"
        shutil.copy(migrated, database)
        asyncio.run(_scenario(database, step, messages))


# Where staff and parties are mid-negotiation: (who, what they did to get there)
NEGOTIATION_STEPS = {
    "lender at the offer": ("leo", [("press", "View and answer")]),
    "lender choosing months": (
        "leo",
        [
            ("press", "View and answer"),
            ("press", "Counter-offer"),
            ("press", "Longer term, equal instalments"),
            ("press", "Months and monthly amount"),
        ],
    ),
    "lender giving an amount": (
        "leo",
        [
            ("press", "View and answer"),
            ("press", "Counter-offer"),
            ("press", "Longer term, equal instalments"),
            ("press", "Months and monthly amount"),
            ("send", "12"),
        ],
    ),
    "lender writing": ("leo", [("press", "View and answer"), ("press", "Write to the other side")]),
    "lender's blind bound": ("leo", [("press", "View and answer"), ("press", "Propose a blind bid")]),
    "borrower at the offer": ("alice", [("press", "Open case 1")]),
    "mediator's queue": ("olga", [("send", "/queue")]),
    "mediator's escalations": ("olga", [("send", "/escalations")]),
    "mediator closing": ("olga", [("send", "/invite Demo Lender"), ("send", "/stats")]),
}


async def _negotiation_scenario(database: Path, step: str, messages: list[tuple[InboundKind, str]]) -> None:
    from tests.dialogs.test_negotiation import approved

    async with running_bot(f"sqlite:///{database}", FakeClock()) as bot:
        alice, olga, leo = await approved(bot)
        who, path = NEGOTIATION_STEPS[step]
        person = {"alice": alice, "olga": olga, "leo": leo}[who]
        for action, value in path:
            await (person.press(value) if action == "press" else person.send(value))
        for kind, payload in messages:
            replies = await person.deliver(person.inbound(kind, payload))
            assert replies, f"no reply to {kind.value} {payload[:40]!r} at {step}"
            assert not any("went wrong on our side" in plain(r.text) for r in replies), person.texts()
            assert all(len(r.text) < 20_000 for r in replies)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from(sorted(NEGOTIATION_STEPS)), messages=st.lists(MESSAGES, min_size=1, max_size=3))
def test_anything_mid_negotiation_gets_a_kind_reply(
    migrated: Path, step: str, messages: list[tuple[InboundKind, str]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "fuzz.db"
        shutil.copy(migrated, database)
        asyncio.run(_negotiation_scenario(database, step, messages))
