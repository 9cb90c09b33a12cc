"""Times name their zone, read on the reader's clock, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.channels.terminal import plain
from bot.rendering import Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.messages import Outbound

DEADLINE = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 21:00 in Beijing


def _offer_sent(locale: str, zone: str) -> str:
    reader = Account(1, Channel.TERMINAL, "li", Role.LENDER, locale, zone, reachable=True)
    message = Outbound(1, "negotiate/offer_sent", {"case_id": 7, "deadline_at": DEADLINE, "held_until": None})
    return plain(Renderer().render(message, reader).text)


def test_a_deadline_says_beijing_time_in_english() -> None:
    assert "Dec 4, 21:00 Beijing time" in _offer_sent("en", "Asia/Shanghai")


def test_a_deadline_says_beijing_time_in_chinese() -> None:
    assert "12月4日 21:00（北京时间）" in _offer_sent("zh_CN", "Asia/Shanghai")


def test_a_reader_in_another_zone_reads_their_own_clock_and_its_name() -> None:
    text = _offer_sent("en", "Europe/Berlin")
    assert "Dec 4, 14:00" in text
    assert "Berlin" in text
