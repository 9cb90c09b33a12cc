"""The Telegram channel's own rules, without a server: clean splitting and pacing."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.telegram import MAX_TEXT, SPARE_CATCH_UP, Pace, split_text, utf16_length

TEXT = st.text(alphabet=st.sampled_from(list("ab \n&;<>é名😀")), max_size=12_000)


@given(TEXT)
def test_pieces_fit_and_lose_nothing_but_the_whitespace_at_cuts(text: str) -> None:
    pieces = split_text(text)
    assert all(utf16_length(piece) <= MAX_TEXT for piece in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_a_split_prefers_paragraphs_then_lines_and_never_cuts_an_entity() -> None:
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(text) == ["a" * 3000, "b" * 3000]
    entity = "x" * 4093 + "&amp;" + "y" * 10  # the limit falls inside "&amp;"
    first, second = split_text(entity)
    assert first == "x" * 4093 and second.startswith("&amp;")


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    text = "😀" * 3000  # 3,000 characters but 6,000 UTF-16 code units: over Telegram's 4,096
    pieces = split_text(text)
    assert [utf16_length(p) for p in pieces] == [4096, 1904]
    assert "".join(pieces) == text  # no emoji cut in half
    assert split_text("😀" * 2048) == ["😀" * 2048]  # exactly 4,096 units: one message


async def test_a_chat_gets_a_short_burst_then_one_message_a_second() -> None:
    pace = Pace(per_second=1000, chat_per_second=4, chat_burst=3)
    started = time.monotonic()
    moments = []
    for _ in range(5):
        await pace.turn(1)
        moments.append(time.monotonic() - started)
    assert moments[2] < 0.1 and moments[3] >= 0.24 and moments[4] >= 0.49
    other = time.monotonic()
    await pace.turn(2)  # another chat is not held by the first one's pace
    assert time.monotonic() - other < 0.05


async def test_a_chat_told_to_wait_waits_alone() -> None:
    pace = Pace(per_second=1000, chat_per_second=1000)
    pace.hold(1, 0.3)
    started = time.monotonic()
    await asyncio.gather(pace.turn(2), pace.turn(3))
    assert time.monotonic() - started < 0.1
    await pace.turn(1)
    assert time.monotonic() - started >= 0.29


class _Api:
    """Just enough of a Bot API for polling: one batch of updates until it is acknowledged."""

    def __init__(self) -> None:
        self.offsets: list[int | None] = []
        self.acknowledged = asyncio.Event()
        self.batch = [
            {
                "update_id": 5,
                "message": {"chat": {"id": 1, "type": "private"}, "from": {"id": 1}, "text": "hi"},
            }
        ]

    async def delete_webhook(self) -> None:
        return None

    async def get_updates(self, offset: int | None, wait_seconds: int) -> list[dict[str, object]]:
        self.offsets.append(offset)
        if offset == 6:
            self.acknowledged.set()
        await asyncio.sleep(0)
        return [] if offset == 6 else self.batch


async def test_a_batch_that_could_not_be_handled_is_not_acknowledged() -> None:
    from bot.channels.telegram import TelegramChannel

    api = _Api()
    channel = TelegramChannel(api)  # type: ignore[arg-type]
    handled: list[str] = []

    async def handle(inbound: object) -> None:
        handled.append(inbound.key)  # type: ignore[attr-defined]
        if len(handled) == 1:
            raise ConnectionError("the database is restarting")

    stop = asyncio.Event()
    polling = asyncio.create_task(channel.poll(handle, stop))
    await asyncio.wait_for(api.acknowledged.wait(), 10)
    stop.set()
    await polling
    assert handled == ["5", "5"]  # handled again after the failure, then acknowledged
    assert api.offsets[:2] == [None, None]


async def test_a_broadcast_makes_up_a_short_stall_but_never_bursts_past_it() -> None:
    pace = Pace(per_second=1000, chat_per_second=1)
    await pace.spare_turn(1)
    time.sleep(0.2)  # noqa: ASYNC251 - the loop blocked on purpose: 200 moments go by unused
    started, chat = time.monotonic(), 2
    while time.monotonic() - started < 0.002:  # what goes at once, without waiting for a moment
        await pace.spare_turn(chat)
        chat += 1
    caught_up = chat - 2
    assert 5 <= caught_up <= 1000 * (SPARE_CATCH_UP + 0.002) + 2  # the catch-up, and the 2 ms' own moments
    for _ in range(100):  # then the rate again (a little under it: the rest is for replies)
        await pace.spare_turn(chat)
        chat += 1
    assert time.monotonic() - started >= 0.09  # 100 moments, less the catch-up and one taken early


async def test_a_chat_told_to_wait_does_not_hold_up_the_rest_of_a_broadcast() -> None:
    """A 429 for one recipient used to stop every broadcast send for its retry_after (a second's gap)."""
    pace = Pace(per_second=1000, chat_per_second=1)
    pace.hold(7, 1.0)
    waiting = asyncio.create_task(pace.spare_turn(7))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    for chat in range(100, 150):
        await pace.spare_turn(chat)
    assert time.monotonic() - started < 0.2  # 50 moments at 1,000/s, not the held chat's second
    assert not waiting.done()
    await asyncio.wait_for(waiting, 2)  # and the held chat goes once its wait is over


async def test_a_broadcast_to_many_chats_does_not_remember_them_all() -> None:
    """Only replies used to forget idle chats: a broadcast with nobody talking kept every recipient."""
    pace = Pace(per_second=100_000, chat_per_second=1000)
    for chat in range(20_000):
        await pace.spare_turn(chat)
    assert len(pace._chats) <= 10_001  # the memory the pace keeps is the point


async def test_a_reply_waits_at_most_a_moment_behind_a_broadcast() -> None:
    pace = Pace(per_second=100, chat_per_second=1)
    for chat in range(10, 30):
        await pace.spare_turn(chat)
    asked = time.monotonic()
    await pace.turn(1)
    assert time.monotonic() - asked <= 0.02
