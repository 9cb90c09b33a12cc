"""``loanbridge lender staff`` and ``lender revoke``: who acts for a lender, and taking access away."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import opened_store
from bot.settings import load_settings
from dialogs.domain import Channel, Role
from tests.test_cli import run, workdir

__all__ = ["workdir"]  # the fixture, shared with the other CLI tests


async def _staff_member(user: str, lender: str) -> int:
    async with opened_store(load_settings()) as store:
        return (await store.grant_role(Channel.TERMINAL, user, Role.LENDER, lender_name=lender)).id


async def _role(user: str) -> Role:
    async with opened_store(load_settings()) as store:
        return (await store.ensure_account(Channel.TERMINAL, user)).role


def test_list_and_revoke_a_lenders_staff(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "lender", "add", "Quick Cash Ltd")[0] == 0
    assert run(capsys, "lender", "add", "Other Ltd")[0] == 0
    code, out, _ = run(capsys, "lender", "staff", "Quick Cash Ltd")
    assert code == 0 and "no one acts for 'Quick Cash Ltd' yet" in out
    leo = asyncio.run(_staff_member("leo", "Quick Cash Ltd"))
    code, out, _ = run(capsys, "lender", "staff", "Quick Cash Ltd")
    assert code == 0 and f"account {leo}: terminal user 'leo'" in out

    code, _, err = run(capsys, "lender", "revoke", "Other Ltd", str(leo))  # not that lender's
    assert code == 1 and "is not staff of 'Other Ltd'" in err
    assert asyncio.run(_role("leo")) is Role.LENDER

    code, out, _ = run(capsys, "lender", "revoke", "Quick Cash Ltd", str(leo))
    assert code == 0 and f"account {leo} no longer acts for 'Quick Cash Ltd'" in out
    assert asyncio.run(_role("leo")) is Role.BORROWER
    assert "no one acts" in run(capsys, "lender", "staff", "Quick Cash Ltd")[1]
