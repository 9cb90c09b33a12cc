"""The secret key: refused when weak, checked against the database at start-up, rotated in batches."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, select

from bot.app import check_store
from dialogs.domain import Channel, Hardship, HardshipReason
from dialogs.errors import NotFound
from dialogs.messages import Inbound, InboundKind
from storage import models
from storage.case_log import PUBLIC_BINARY_COLUMNS
from storage.crypto import FieldCipher, SecretKeyError, decode_secret, generate_secret
from storage.db import create_engine
from storage.keys import SEALED_TABLES
from storage.rotation import rotate
from storage.store import SqlStore
from tests.samples import resident_id
from tests.storage.helpers import people

OLD, NEW = generate_secret(), generate_secret()
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def opened(url: str, clock: Any, secret: str, *old: str) -> AsyncIterator[SqlStore]:
    """A store as the app opens one: its keys checked before anything else."""
    cipher = FieldCipher(decode_secret(secret), [decode_secret(o, strong=False) for o in old])
    store = SqlStore(create_engine(url), cipher, clock=clock)
    try:
        await check_store(store)
        yield store
    finally:
        await store.close()


def cli(url: str, *argv: str, secret: str | None = None, old: str | None = None, cwd: Path = ROOT) -> Any:
    """``loanbridge …`` as a separate process, as an administrator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOANBRIDGE_")}
    env |= {"LOANBRIDGE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    env |= {"LOANBRIDGE_SECRET_KEY": secret} if secret else {}
    env |= {"LOANBRIDGE_OLD_SECRET_KEYS": old} if old else {}
    command = [sys.executable, "-m", "bot.cli", *argv]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    "weak", ["a" * 32, "password" * 4, "abababababababababababababababab12", "0123456789" * 4]
)
def test_weak_secrets_are_refused_with_how_to_make_one(weak: str) -> None:
    with pytest.raises(SecretKeyError, match=r"too weak.*secrets\.token_urlsafe\(32\)"):
        decode_secret(weak)


def test_generated_secrets_are_accepted() -> None:
    for _ in range(200):
        assert len(decode_secret(generate_secret())) == 32


def test_a_weak_secret_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    result = cli(f"sqlite:///{tmp_path / 'lb.db'}", "db", "upgrade", secret="password" * 4)
    assert result.returncode == 2
    assert "LOANBRIDGE_SECRET_KEY" in one_line(result.stderr) and "token_urlsafe" in result.stderr


def test_every_encrypted_column_is_known_to_rotation() -> None:
    binary = {
        (table.name, column.name)
        for table in models.Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    public = PUBLIC_BINARY_COLUMNS  # the case log's hashes, entries and signatures: nothing secret
    assert binary - public == {(s.name, column) for s in SEALED_TABLES for column, _ in s.columns}


async def test_a_wrong_key_stops_start_up_with_one_line(database_url: str) -> None:
    assert cli(database_url, "lender", "add", "Quick Cash", secret=OLD).returncode == 0
    result = cli(database_url, "lender", "add", "Another", secret=NEW)
    assert result.returncode == 1
    assert "LOANBRIDGE_SECRET_KEY does not match" in one_line(result.stderr)
    assert cli(database_url, "lender", "add", "Another", secret=OLD).returncode == 0


async def test_a_database_without_its_key_file_is_refused_and_no_key_is_made(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lb.db'}"
    key_file = tmp_path / "lb.db.key"
    assert cli(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    assert cli(url, "lender", "add", "Quick Cash", cwd=tmp_path).returncode == 0
    assert key_file.exists()  # the development key, made for an empty database
    key_file.unlink()
    result = cli(url, "lender", "add", "Another", cwd=tmp_path)
    assert result.returncode == 1
    assert f"key file {key_file} is missing" in one_line(result.stderr)
    assert not key_file.exists()


async def test_data_from_before_key_checks_is_checked_against_the_key(database_url: str, clock: Any) -> None:
    """A database with data and no key check yet (written before this version): the key must open it."""
    store = SqlStore(create_engine(database_url), FieldCipher(decode_secret(OLD)), clock=clock)
    await people(store)
    await store.close()
    with pytest.raises(SecretKeyError, match="does not open the data already in this database"):
        async with opened(database_url, clock, NEW):
            pass
    async with opened(database_url, clock, OLD) as store:
        assert len(await store.find_loans(id_number=resident_id())) == 1


async def test_data_from_before_key_checks_under_a_retiring_key_is_rotated(
    database_url: str, clock: Any
) -> None:
    """Upgrading with the old (perhaps weak) key listed as old: the data is recorded under it, not the new."""
    store = SqlStore(create_engine(database_url), FieldCipher(decode_secret(OLD)), clock=clock)
    await people(store)
    await store.close()
    async with opened(database_url, clock, NEW, OLD) as store:
        result = await rotate(store)
        assert result.finished and not result.already_current and result.values == 3
    async with opened(database_url, clock, NEW) as store:
        assert len(await store.find_loans(id_number=resident_id())) == 1
        assert await all_current(store)


async def seed(url: str, clock: Any) -> tuple[int, str]:
    """Personal data of every kind under the old key; the case and an unused invite code."""
    async with opened(url, clock, OLD) as store:
        p = await people(store)
        case = await store.open_case(p.borrower.id, p.loan_id, p.actor("borrower"))
        hardship = Hardship(HardshipReason.ILLNESS, True, "my diagnosis is private")
        await store.save_hardship(case.id, hardship, p.actor("borrower"))
        code = await store.create_invite("Quick Cash Ltd", timedelta(hours=72))
        return case.id, code


async def readable(store: SqlStore, case_id: int) -> None:
    (loan,) = await store.find_loans(id_number=resident_id(), phone="13812345678")
    assert (await store.loan(loan.id)).row.borrower_name == "张三丰"
    hardship = await store.hardship(case_id)
    assert hardship is not None and hardship.description == "my diagnosis is private"


async def all_current(store: SqlStore) -> bool:
    async with store.unit() as session:
        for sealed in SEALED_TABLES:
            for column, _ in sealed.columns:
                field = sealed.table.c[column]
                for blob in await session.scalars(select(field).where(field.is_not(None))):
                    if not store.cipher.is_current(bytes(blob)):
                        return False
    return True


async def redeem(store: SqlStore, code: str, user: str) -> None:
    async with store.batch() as batch:
        inbound = Inbound(Channel.TELEGRAM, user, user, f"k-{user}", InboundKind.TEXT, "")
        await batch.prepare([inbound])
        async with batch.turn(inbound) as turn:
            assert turn is not None
            await turn.redeem_invite(code)


async def test_rotation_resumes_after_an_interruption_and_retires_the_old_key(
    database_url: str, clock: Any
) -> None:
    case_id, code = await seed(database_url, clock)

    async with opened(database_url, clock, NEW, OLD) as store:
        first = await rotate(store, batch_size=1, max_batches=1)  # interrupted after the loan
        assert not first.finished and first.rows == 1
        await readable(store, case_id)  # mixed keys: the old one still reads what it sealed
        await store.add_lender("Written Meanwhile")

    with pytest.raises(SecretKeyError, match="rotation to this LOANBRIDGE_SECRET_KEY is unfinished"):
        async with opened(database_url, clock, NEW):
            pass

    async with opened(database_url, clock, NEW, OLD) as store:
        second = await rotate(store, batch_size=1)
        assert second.finished and second.rows > 0 and second.invites_expired == 1
        assert await all_current(store)

    async with opened(database_url, clock, NEW) as store:
        await readable(store, case_id)  # lookup hashes were recomputed under the new key
        with pytest.raises(NotFound):
            await redeem(store, code, "9001")  # the old invite cannot be found any more: expired, said so
        assert (await rotate(store)).already_current

    with pytest.raises(SecretKeyError, match="does not match"):
        async with opened(database_url, clock, OLD):
            pass


async def test_the_rotate_command_reencrypts_under_the_new_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lb.db'}"
    assert cli(url, "db", "upgrade", secret=OLD).returncode == 0
    book = tmp_path / "book.csv"
    book.write_text(
        "loan_ref,borrower_name,id_number,phone,principal,annual_rate,start_date,term_months,"
        "outstanding_principal,outstanding_interest,penalty,fees,overdue_days\n"
        f"L-1,张三,{resident_id()},13812345678,20000,0.24,2024-03-15,24,14321.55,1020.40,380,120,45\n",
        encoding="utf-8",
    )
    assert cli(url, "lender", "add", "Quick Cash", secret=OLD).returncode == 0
    assert cli(url, "loans", "import", str(book), "--lender", "Quick Cash", secret=OLD).returncode == 0

    result = cli(url, "keys", "rotate", "--batch", "1", secret=NEW, old=OLD)
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 3 values in 1 rows" in result.stdout

    assert cli(url, "loans", "import", str(book), "--lender", "Quick Cash", secret=NEW).returncode == 0
    assert "does not match" in one_line(cli(url, "lender", "add", "X", secret=OLD).stderr)
