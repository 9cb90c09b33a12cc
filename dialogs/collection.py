"""The one daily cap on collection contact (DESIGN §4): reminders, the lender's words and a mediator's
messages about money are counted together, by the local day on which they reach the borrower.

A message is counted on the day of its outbox row's ``not_before`` (when it is delivered), so words held
overnight count for the morning they arrive in, and a day that is full pushes the next message to the
following day's window, and on, until a day with room.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialogs.rules.conduct import ConductPolicy

# Outbox templates that press the borrower about money. Counted only in messages to the case's borrower.
COLLECTION_TEMPLATES = frozenset(
    {
        "reminders/instalment",  # instalment reminders
        "negotiate/new_offer",  # an offer (the lender's, or a mediator's proposal)
        "negotiate/other_rejected",  # the borrower's offer was turned down
        "negotiate/relayed",  # the lender's own words (a mediator's relayed words are counted too)
        "mediate/message",  # the mediator writing to the borrower
        "payments/disputed",  # the lender disputes a reported payment, in their own words
    }
)
_MAX_DAYS = 31  # a cap of at least one a day finds room within this many days


class CollectionCount(Protocol):
    async def collection_messages(self, case_id: int, start: datetime, end: datetime) -> int:
        """Collection messages to the case's borrower delivered (or due to be) in ``[start, end)``."""
        ...


def local_day(moment: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The local day holding ``moment``, as ``[midnight, next midnight)`` in UTC."""
    zone = ZoneInfo(time_zone)
    day = moment.astimezone(zone).date()
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


async def collection_time(
    turn: CollectionCount, policy: ConductPolicy, case_id: int, time_zone: str, now: datetime
) -> datetime:
    """The earliest moment, from ``now``, at which one more collection message may reach the borrower:
    inside their window, on a local day that has not reached the cap."""
    moment = now
    for _ in range(_MAX_DAYS):
        start, end = local_day(moment, time_zone)
        sent = await turn.collection_messages(case_id, start, end)
        at = policy.next_allowed_send(moment, time_zone, sent)
        if at < end:
            return at
        moment = at  # the window's opening on a later day: count that day's messages in turn
    return moment
