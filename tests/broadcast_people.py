"""People for the broadcast tests, written straight into the store: borrowers on each channel, in zones
inside and outside their hours now, opted out or unreachable, and with instalments due or overdue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from dialogs.domain import Channel, Role
from dialogs.rules.conduct import is_within_window
from storage import models
from storage.store import SqlStore

# Fixed-offset zones, east to west: one of them is always inside 08:00-21:00 and one outside.
_ZONES = [f"Etc/GMT{'-' if h > 0 else '+'}{abs(h)}" if h else "Etc/GMT" for h in range(14, -13, -1)]
_MARGIN = [timedelta(minutes=m) for m in (-30, 0, 30)]  # far enough from the edges for a test's length


def zones(now: datetime) -> tuple[str, str]:
    """A zone whose clock is inside the hours at ``now`` (not near their edges), and one outside."""
    inside = next(z for z in _ZONES if all(is_within_window(now + d, z) for d in _MARGIN))
    outside = next(z for z in _ZONES if not any(is_within_window(now + d, z) for d in _MARGIN))
    return inside, outside


async def person(
    store: SqlStore,
    channel: Channel,
    user: str,
    *,
    locale: str = "en",
    zone: str = "Etc/GMT",
    quiet: bool = False,
    reachable: bool = True,
    role: Role = Role.BORROWER,
    lender: str | None = None,
) -> int:
    if role is Role.BORROWER:
        account = await store.ensure_account(channel, user, locale=locale, time_zone=zone)
    else:
        account = await store.grant_role(channel, user, role, lender_name=lender)
    values: dict[str, Any] = {"reachable": reachable, "time_zone": zone, "locale": locale}
    if quiet:
        values["quiet_since"] = store.clock.now()
    async with store.unit() as session:
        await session.execute(update(models.Account).where(models.Account.id == account.id).values(**values))
    return account.id


async def lender(store: SqlStore, name: str) -> int:
    return (await store.add_lender(name)).id


async def agreement(
    store: SqlStore,
    account_id: int,
    lender_id: int,
    due: list[tuple[date, str, str]],
    *,
    state: str = "active",
) -> int:
    """A case in ``state`` with an agreement whose instalments are (due date, amount, paid)."""
    now = store.clock.now()
    async with store.unit() as session:
        case = models.Case(
            borrower_account_id=account_id,
            lender_id=lender_id,
            state=state,
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(case)
        await session.flush()
        offer = models.Offer(
            case_id=case.id,
            round=1,
            proposer_role="borrower",
            plan_kind="term_extension_equal_instalment",
            months=len(due),
            monthly_amount=Decimal(due[0][1]) if due else Decimal(0),
            amount_waived=Decimal(0),
            total_repaid=sum((Decimal(a) for _, a, _ in due), Decimal(0)),
            terms={},
            status="accepted",
            created_at=now,
        )
        session.add(offer)
        await session.flush()
        signed = models.Agreement(
            case_id=case.id,
            offer_id=offer.id,
            terms_version=1,
            terms={},
            text="agreed",
            content_hash="0" * 64,
            created_at=now,
        )
        session.add(signed)
        await session.flush()
        for number, (day, amount, paid) in enumerate(due, start=1):
            status = "paid" if Decimal(paid) >= Decimal(amount) else "due"
            session.add(
                models.Instalment(
                    agreement_id=signed.id,
                    number=number,
                    due_date=day,
                    amount=Decimal(amount),
                    paid_amount=Decimal(paid),
                    status=status,
                )
            )
        return case.id


async def statuses(store: SqlStore, broadcast_id: int) -> dict[int, str]:
    """Each recipient's status, by account."""
    r = models.BroadcastRecipient
    async with store.unit() as session:
        rows = (
            await session.execute(select(r.account_id, r.status).where(r.broadcast_id == broadcast_id))
        ).all()
    return {int(a): str(s) for a, s in rows}


async def many(
    store: SqlStore, channel: Channel, first: int, count: int, *, zone: str, locale: str = "en"
) -> list[int]:
    """``count`` borrowers at once (user ids ``first``…), for a broadcast's sizes: their account ids."""
    now = store.clock.now()
    rows = [
        {
            "channel": channel.value,
            "channel_user_id": str(first + n),
            "role": Role.BORROWER.value,
            "locale": locale,
            "time_zone": zone,
            "reachable": True,
            "created_at": now,
        }
        for n in range(count)
    ]
    a = models.Account
    async with store.unit() as session:
        before = int(await session.scalar(select(func.coalesce(func.max(a.id), 0))) or 0)
        for start in range(0, count, 5000):
            await session.execute(insert(a), rows[start : start + 5000])
        return sorted(int(i) for i in await session.scalars(select(a.id).where(a.id > before)))
