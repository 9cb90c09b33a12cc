"""Personal data is encrypted at rest, found by keyed hash, and never stored in plaintext."""

from __future__ import annotations

import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from dialogs.domain import Hardship, HardshipReason
from dialogs.errors import InvalidInput, PermissionDenied
from dialogs.lifecycle import CaseState
from dialogs.rules.affordability import Finances
from storage.crypto import FieldCipher, SecretKeyError, generate_secret, load_or_create_key
from storage.store import SqlStore
from tests.samples import loan_row, resident_id
from tests.storage.helpers import people

SECRETS = ("张三丰", resident_id(), "13812345678", "my diagnosis is private", "12345.67")


def finances() -> Finances:
    return Finances(
        net_monthly_income=Decimal("12345.67"),
        housing=Decimal("2500.00"),
        food=Decimal("1500.00"),
        utilities=Decimal("300.00"),
        transport=Decimal("200.00"),
        children=Decimal("800.00"),
        medical=Decimal("400.00"),
        other=Decimal("100.00"),
        other_debt_payments=Decimal("1000.00"),
        savings=Decimal("3000.00"),
    )


async def raw_database_text(store: SqlStore, database_url: str) -> str:
    """Everything the database holds, as a reader of its files (SQLite) or rows (PostgreSQL) sees it."""
    if database_url.startswith("sqlite"):
        await store.close()  # checkpoint nothing away: read the main file and the WAL as they are
        path = Path(database_url.removeprefix("sqlite:///"))
        blobs = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
        return b"".join(blobs).decode("utf-8", errors="replace")
    async with store.unit() as session:
        tables = ["loans", "hardships", "finances", "case_events", "cases", "accounts"]
        rows = [await session.scalars(text(f"SELECT t::text FROM {table} t")) for table in tables]
        return "\n".join(value for result in rows for value in result)


async def test_personal_data_round_trips_and_is_not_in_the_database(
    store: SqlStore, database_url: str
) -> None:
    p = await people(store)
    case = await store.open_case(p.borrower.id, p.loan_id, p.actor("borrower"))
    await store.save_hardship(
        case.id, Hardship(HardshipReason.ILLNESS, lasting=True, description=SECRETS[3]), p.actor("borrower")
    )
    await store.save_finances(case.id, finances(), p.actor("borrower"))

    (loan,) = await store.find_loans(id_number=resident_id(), phone="138 1234 5678")
    assert (loan.row.borrower_name, loan.row.id_number, loan.row.phone) == (
        "张三丰",
        resident_id(),
        "+8613812345678",
    )
    assert await store.hardship(case.id) == Hardship(HardshipReason.ILLNESS, True, SECRETS[3])
    assert await store.finances(case.id) == finances()

    raw = await raw_database_text(store, database_url)
    assert "L-0001" in raw  # the reader does see the database's contents...
    for secret in SECRETS:
        assert secret not in raw  # ...but none of the personal data


async def test_lookup_is_by_keyed_hash_of_the_normalised_value(store: SqlStore) -> None:
    await people(store)
    assert len(await store.find_loans(phone="+86 138-1234-5678")) == 1
    assert len(await store.find_loans(id_number=resident_id().lower())) == 1
    assert await store.find_loans(phone="13900000000") == []
    with pytest.raises(InvalidInput):
        await store.find_loans()


async def test_another_key_cannot_read_the_data(store: SqlStore, database_url: str) -> None:
    from storage.db import create_engine

    await people(store)
    stranger = SqlStore(create_engine(database_url), FieldCipher(b"another-key-another-key-another-key!"))
    try:
        assert await stranger.find_loans(id_number=resident_id()) == []  # the keyed hash differs
        (loan,) = await store.find_loans(loan_ref="L-0001")
        with pytest.raises(SecretKeyError, match="does not decrypt"):
            await stranger.loan(loan.id)
    finally:
        await stranger.close()


async def test_ciphertext_is_bound_to_its_column() -> None:
    cipher = FieldCipher(b"k" * 32)
    sealed = cipher.encrypt("loans.phone", "+8613812345678")
    assert cipher.decrypt("loans.phone", sealed) == "+8613812345678"
    with pytest.raises(SecretKeyError):
        cipher.decrypt("loans.id_number", sealed)
    assert cipher.encrypt("loans.phone", "x") != cipher.encrypt("loans.phone", "x")  # fresh nonce each time


async def test_the_application_is_editable_only_by_its_borrower_and_only_before_review(
    store: SqlStore,
) -> None:
    p = await people(store)
    case = await store.open_case(p.borrower.id, p.loan_id, p.actor("borrower"))
    hardship = Hardship(HardshipReason.JOB_LOSS, lasting=False)
    with pytest.raises(PermissionDenied):
        await store.save_hardship(case.id, hardship, p.actor("other_borrower"))
    await store.transition(case.id, CaseState.SUBMITTED, p.actor("borrower"))
    await store.transition(case.id, CaseState.APPROVED, p.actor("operator"))
    with pytest.raises(InvalidInput, match="no longer be changed"):
        await store.save_finances(case.id, finances(), p.actor("borrower"))
    assert await store.hardship(case.id) is None and await store.finances(case.id) is None


async def test_saving_logs_what_changed_without_the_personal_data(store: SqlStore) -> None:
    p = await people(store)
    case = await store.open_case(p.borrower.id, p.loan_id, p.actor("borrower"))
    await store.save_hardship(
        case.id, Hardship(HardshipReason.ILLNESS, True, SECRETS[3]), p.actor("borrower")
    )
    await store.save_finances(case.id, finances(), p.actor("borrower"))
    kinds = [(e.kind, e.details) for e in await store.events(case.id)]
    assert kinds == [
        ("opened", {}),
        ("hardship_saved", {}),
        ("finances_saved", {}),
    ]


def test_development_key_is_created_once_with_owner_only_access(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "loanbridge.db.key"
    first = load_or_create_key(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "LOANBRIDGE_SECRET_KEY is not set" in caplog.text
    assert load_or_create_key(None, key_file) == first


def test_configured_key_is_used_and_checked() -> None:
    secret = generate_secret()
    assert len(load_or_create_key(secret, None)) == 32
    with pytest.raises(SecretKeyError, match="at least 32 bytes"):
        load_or_create_key("short", None)
    with pytest.raises(SecretKeyError, match="required"):
        load_or_create_key(None, None)


async def test_reimport_keeps_lookup_working_after_a_phone_change(store: SqlStore) -> None:
    await people(store)
    summary = await store.import_loan_book(
        "Quick Cash Ltd", [loan_row(phone="+8613900001111"), loan_row("L-0002")]
    )
    assert (summary.created, summary.updated) == (1, 1)
    assert [loan.row.loan_ref for loan in await store.find_loans(phone="13900001111")] == ["L-0001"]
    assert [loan.row.loan_ref for loan in await store.find_loans(phone="13812345678")] == ["L-0002"]
