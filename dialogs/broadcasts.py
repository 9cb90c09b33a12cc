"""Operator broadcasts, in the core's terms: who a segment names, what a broadcast's progress says.

A segment is one of ``all``, ``due:N`` (an instalment due within N days), ``overdue``, ``lender:NAME``,
``channel:telegram|wechat|terminal`` or ``state:STATE``; it always names borrowers (staff are told
through their desks, not broadcasts). The store turns a segment into rows; nothing here touches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dialogs.domain import Channel
from dialogs.errors import InvalidInput
from dialogs.lifecycle import CaseState, state_named

# The templates under templates/<locale>/broadcast/ (a test keeps this list and the files the same).
TEMPLATES = ("service", "instalment_due", "holiday_hours")
MAX_DUE_DAYS = 366
MAX_NAME = 200
REACHED_CHANNELS = (Channel.TELEGRAM, Channel.WECHAT, Channel.TERMINAL)


class SegmentKind(StrEnum):
    ALL = "all"
    DUE = "due"
    OVERDUE = "overdue"
    LENDER = "lender"
    CHANNEL = "channel"
    STATE = "state"


class RecipientStatus(StrEnum):
    PENDING = "pending"  # to be sent as soon as the rate allows
    SENDING = "sending"  # claimed by a sender (a crash leaves it for the next one to claim again)
    HELD = "held"  # outside the recipient's hours: waits until ``not_before``
    SENT = "sent"
    FAILED = "failed"  # the channel refused it (blocked the bot, or failed every attempt)
    SKIPPED = "skipped"  # never sent: opted out (/quiet) or unreachable before it went


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"  # waits for its time (``--at``)
    RUNNING = "running"
    DONE = "done"  # every recipient sent, failed or skipped


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    value: str | None = None  # the days, the lender's name, the channel or the state

    @property
    def days(self) -> int:
        return int(self.value or 0)

    def text(self) -> str:
        """As typed: ``due:7``, ``lender:Demo Lender``."""
        return self.kind.value if self.value is None else f"{self.kind.value}:{self.value}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "value": self.value}

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Segment:
        return parse_segment(Segment(SegmentKind(stored["kind"]), stored.get("value")).text())


def parse_segment(text: str) -> Segment:
    """A segment as typed; :class:`InvalidInput` says what is wrong and what would be right."""
    word, _, value = text.strip().partition(":")
    word, value = word.strip().lower(), value.strip()
    kinds = {kind.value for kind in SegmentKind}
    if word not in kinds:
        raise InvalidInput(
            f"unknown segment {text.strip()[:40]!r}: use all, due:N, overdue, lender:NAME, "
            "channel:telegram|wechat|terminal or state:STATE"
        )
    kind = SegmentKind(word)
    if kind in (SegmentKind.ALL, SegmentKind.OVERDUE):
        if value:
            raise InvalidInput(f"the segment {kind.value!r} takes no value, got {value[:40]!r}")
        return Segment(kind)
    if not value:
        raise InvalidInput(f"the segment {kind.value!r} needs a value, such as {_EXAMPLES[kind]}")
    return Segment(kind, _checked_value(kind, value))


_EXAMPLES = {
    SegmentKind.DUE: "due:7",
    SegmentKind.LENDER: "lender:Demo Lender",
    SegmentKind.CHANNEL: "channel:telegram",
    SegmentKind.STATE: "state:active",
}


def _checked_value(kind: SegmentKind, value: str) -> str:
    if kind is SegmentKind.DUE:
        if not value.isdigit() or not 0 <= int(value) <= MAX_DUE_DAYS:
            raise InvalidInput(f"due:N takes whole days from 0 to {MAX_DUE_DAYS}, got {value[:40]!r}")
        return str(int(value))
    if kind is SegmentKind.CHANNEL:
        names = [channel.value for channel in REACHED_CHANNELS]
        if value.lower() not in names:
            raise InvalidInput(f"{value[:40]!r} is not a channel: use one of {', '.join(names)}")
        return value.lower()
    if kind is SegmentKind.STATE:
        named = state_named(value)
        if named is None:
            states = [state.value for state in CaseState]
            raise InvalidInput(f"{value[:40]!r} is not a case state: use one of {', '.join(states)}")
        return named.value
    if len(value) > MAX_NAME:
        raise InvalidInput(f"a lender's name has at most {MAX_NAME} characters")
    return value


def check_template(name: str) -> str:
    name = name.strip()
    if name not in TEMPLATES:
        raise InvalidInput(f"unknown broadcast template {name[:40]!r}: use one of {', '.join(TEMPLATES)}")
    return name


@dataclass(frozen=True, slots=True)
class Preview:
    """Who a segment names now, before anything is sent: who will get it and who is skipped, and why
    (each person counted once: quiet first, then unreachable, then already waiting)."""

    total: int  # everyone the segment names
    by_channel_locale: dict[tuple[str, str], int]  # those who will get it
    outside_window: int  # of those who will get it, outside their hours now: they wait for their hours
    opted_out: int  # /quiet: skipped (a broadcast is not a message the law requires)
    unreachable: int  # blocked the bot: skipped
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)  # locale -> a recipient's figures
    already_waiting: int = 0  # the same template still waits for them in another broadcast: skipped
    waiting_in: tuple[int, ...] = ()  # those other broadcasts

    @property
    def skipped(self) -> int:
        return self.opted_out + self.unreachable + self.already_waiting

    @property
    def reached(self) -> int:
        """Who will get it."""
        return self.total - self.skipped


@dataclass(frozen=True, slots=True)
class Progress:
    id: int
    template: str
    segment: str
    status: BroadcastStatus
    scheduled_at: datetime | None
    counts: dict[str, int]

    def count(self, status: RecipientStatus) -> int:
        return self.counts.get(status.value, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def to_go(self) -> int:
        """Recipients a sender still has to reach now (the held wait for their morning)."""
        return self.count(RecipientStatus.PENDING) + self.count(RecipientStatus.SENDING)

    @property
    def settled(self) -> bool:
        """Nothing left to send now: every recipient is sent, failed, skipped or held for their hours."""
        return self.status is not BroadcastStatus.SCHEDULED and self.to_go == 0

    def summary(self) -> str:
        sent, failed = self.count(RecipientStatus.SENT), self.count(RecipientStatus.FAILED)
        held, skipped = self.count(RecipientStatus.HELD), self.count(RecipientStatus.SKIPPED)
        return f"sent {sent}, failed {failed}, held {held}, skipped {skipped}"

    def figures(self) -> dict[str, int]:
        """The counts a message about it shows."""
        return {
            "total": self.total,
            "sent": self.count(RecipientStatus.SENT),
            "failed": self.count(RecipientStatus.FAILED),
            "held": self.count(RecipientStatus.HELD),
            "skipped": self.count(RecipientStatus.SKIPPED),
            "to_go": self.to_go,
        }
