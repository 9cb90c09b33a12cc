"""The imported loan book: personal data encrypted on the way in, found by keyed hash, decrypted out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.errors import InvalidInput, NotFound
from dialogs.rules.identity import normalise_phone, validate_resident_id
from dialogs.rules.interest import LenderKind
from storage import models
from storage.crypto import FieldCipher

_ENCRYPTED = {"borrower_name": "loans.borrower_name", "id_number": "loans.id_number", "phone": "loans.phone"}
_PLAIN = (
    "principal",
    "annual_rate",
    "start_date",
    "term_months",
    "outstanding_principal",
    "outstanding_interest",
    "penalty",
    "fees",
    "overdue_days",
)
_BATCH = 1000


def _columns(row: domain.LoanRow, cipher: FieldCipher) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(row, name) for name in _PLAIN}
    for field, column in _ENCRYPTED.items():
        values[f"{field}_enc"] = cipher.encrypt(column, getattr(row, field))
    values["id_number_hash"] = cipher.lookup_hash("id_number", row.id_number)
    values["phone_hash"] = cipher.lookup_hash("phone", row.phone)
    # A book without the column says nothing of a funder: the lender's own kind applies again.
    values["lender_kind"] = row.lender_kind.value if row.lender_kind else None
    return values


def to_loan(row: models.Loan, cipher: FieldCipher, lender_kind: str | None = None) -> domain.Loan:
    """The stored loan; ``lender_kind`` is its lender's, which binds unless the loan names its funder."""
    plain: dict[str, Any] = {name: getattr(row, name) for name in _PLAIN}
    secret: dict[str, Any] = {
        field: cipher.decrypt(column, getattr(row, f"{field}_enc")) for field, column in _ENCRYPTED.items()
    }
    own = LenderKind(row.lender_kind) if row.lender_kind else None
    loan_row = domain.LoanRow(loan_ref=row.loan_ref, **plain, **secret, lender_kind=own)
    binding = own or LenderKind(lender_kind or LenderKind.PRIVATE)
    return domain.Loan(id=row.id, lender_id=row.lender_id, row=loan_row, lender_kind=binding)


async def import_rows(
    session: AsyncSession, lender_id: int, rows: Sequence[domain.LoanRow], cipher: FieldCipher, now: datetime
) -> domain.ImportSummary:
    """Insert new loans and update known ones (by ``loan_ref``) in the caller's transaction."""
    refs = [row.loan_ref for row in rows]
    query = select(models.Loan.loan_ref, models.Loan.id).where(
        models.Loan.lender_id == lender_id, models.Loan.loan_ref.in_(refs)
    )
    existing: dict[str, int] = {ref: loan_id for ref, loan_id in (await session.execute(query)).all()}  # noqa: C416
    inserts = [
        {
            **_columns(row, cipher),
            "lender_id": lender_id,
            "loan_ref": row.loan_ref,
            "imported_at": now,
            "updated_at": now,
        }
        for row in rows
        if row.loan_ref not in existing
    ]
    updates = [
        {**_columns(row, cipher), "id": existing[row.loan_ref], "updated_at": now}
        for row in rows
        if row.loan_ref in existing
    ]
    for start in range(0, len(inserts), _BATCH):
        await session.execute(insert(models.Loan), inserts[start : start + _BATCH])
    for start in range(0, len(updates), _BATCH):
        await session.execute(update(models.Loan), updates[start : start + _BATCH])
    return domain.ImportSummary(created=len(inserts), updated=len(updates))


async def find(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    id_number: str | None,
    phone: str | None,
    loan_ref: str | None,
    lender_id: int | None,
) -> list[domain.Loan]:
    """Loans matching every criterion given; personal data is matched by keyed hash, never by plaintext."""
    query = select(models.Loan, models.Lender.kind).join(models.Lender).order_by(models.Loan.id)
    if id_number is not None:
        number = validate_resident_id(id_number).number
        query = query.where(models.Loan.id_number_hash.in_(cipher.lookup_hashes("id_number", number)))
    if phone is not None:
        query = query.where(models.Loan.phone_hash.in_(cipher.lookup_hashes("phone", normalise_phone(phone))))
    if loan_ref is not None:
        query = query.where(models.Loan.loan_ref == loan_ref.strip())
    if lender_id is not None:
        query = query.where(models.Loan.lender_id == lender_id)
    if id_number is phone is loan_ref is None:
        raise InvalidInput("look a loan up by its reference, ID number or phone")
    return [to_loan(row, cipher, kind) for row, kind in (await session.execute(query)).all()]


async def get(session: AsyncSession, cipher: FieldCipher, loan_id: int) -> domain.Loan:
    query = select(models.Loan, models.Lender.kind).join(models.Lender).where(models.Loan.id == loan_id)
    found = (await session.execute(query)).first()
    if found is None:
        raise NotFound(f"no loan {loan_id}")
    return to_loan(found[0], cipher, found[1])
