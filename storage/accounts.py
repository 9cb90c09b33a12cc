"""Lenders and accounts, inside a unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.domain import Channel, Role
from dialogs.errors import AlreadyExists, InvalidInput, NotFound
from dialogs.locales import DEFAULT_LOCALE
from dialogs.rules.interest import LenderKind
from storage import models

MAX_USER_ID = 128


def to_lender(row: models.Lender) -> domain.Lender:
    return domain.Lender(
        id=row.id, name=row.name, compliance_contact=row.compliance_contact, kind=LenderKind(row.kind)
    )


def to_account(row: models.Account) -> domain.Account:
    return domain.Account(
        id=row.id,
        channel=Channel(row.channel),
        channel_user_id=row.channel_user_id,
        role=Role(row.role),
        locale=row.locale,
        time_zone=row.time_zone,
        reachable=row.reachable,
        lender_id=row.lender_id,
        consented_at=row.consented_at,
    )


async def add_lender(
    session: AsyncSession,
    name: str,
    contact: str | None,
    now: datetime,
    kind: LenderKind = LenderKind.PRIVATE,
) -> domain.Lender:
    name = _clean_name(name)
    if await session.scalar(select(models.Lender.id).where(models.Lender.name == name)) is not None:
        raise AlreadyExists(f"a lender named {name!r} already exists")
    row = models.Lender(name=name, compliance_contact=contact, kind=LenderKind(kind).value, created_at=now)
    session.add(row)
    await session.flush()
    return to_lender(row)


async def lender_row(session: AsyncSession, name: str) -> models.Lender:
    """The lender of that name, exactly or else whatever the letters' case ("demo lender") when only one
    lender matches so."""
    table = models.Lender
    row = await session.scalar(select(table).where(table.name == name.strip()))
    if row is None:
        same_letters = func.lower(table.name) == name.strip().lower()
        alike = list(await session.scalars(select(table).where(same_letters)))
        row = alike[0] if len(alike) == 1 else None
    if row is None:
        raise NotFound(f"no lender named {name!r}; add it first with `loanbridge lender add NAME`")
    return row


async def lender_names(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(models.Lender.name).order_by(models.Lender.name)))


async def account_row(session: AsyncSession, account_id: int) -> models.Account:
    row = await session.get(models.Account, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return row


async def find_account(session: AsyncSession, channel: Channel, user_id: str) -> models.Account | None:
    query = select(models.Account).where(
        models.Account.channel == channel.value, models.Account.channel_user_id == user_id
    )
    return await session.scalar(query)


async def ensure_account(
    session: AsyncSession, channel: Channel, user_id: str, locale: str | None, time_zone: str, now: datetime
) -> models.Account:
    """The account of this channel user, created as a borrower the first time they appear."""
    user_id = _clean_user_id(user_id)
    row = await find_account(session, channel, user_id)
    if row is None:
        row = models.Account(
            channel=channel.value,
            channel_user_id=user_id,
            role=Role.BORROWER.value,
            locale=locale or DEFAULT_LOCALE,
            time_zone=time_zone,
            reachable=True,
            created_at=now,
        )
        session.add(row)
        await session.flush()
    return row


async def grant_role(
    session: AsyncSession, account: models.Account, role: Role, lender_name: str | None
) -> models.Account:
    """Grant a role. Lender staff must name their lender; nobody else may have one."""
    if role is Role.LENDER and lender_name is None:
        raise InvalidInput("a lender's staff account needs the lender's name")
    if role is not Role.LENDER and lender_name is not None:
        raise InvalidInput(f"only lender staff belong to a lender, not a {role.value}")
    account.lender_id = (await lender_row(session, lender_name)).id if lender_name else None
    account.role = role.value
    await session.flush()
    return account


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a lender's name must have 1 to 200 characters")
    return name


def _clean_user_id(user_id: str) -> str:
    user_id = user_id.strip()
    if not user_id or len(user_id) > MAX_USER_ID:
        raise InvalidInput(f"a channel user id must have 1 to {MAX_USER_ID} characters")
    return user_id
