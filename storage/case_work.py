"""What a turn may do to cases, as the person sending it: every call checks their role and ownership."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import domain
from dialogs.domain import Account, Actor, FileRef, Hardship
from dialogs.errors import AlreadyExists, NotFound, PermissionDenied
from dialogs.lifecycle import TERMINAL, CaseState
from dialogs.rules.affordability import Finances
from storage import accounts, cases, loans, models, personal
from storage.crypto import FieldCipher
from storage.types import plain_json

MAX_EVIDENCE_PER_CASE = 20
_ENDS_OFFERS = frozenset({CaseState.CLOSED, CaseState.WITHDRAWN, CaseState.REJECTED, CaseState.EXPIRED})


class CaseWork:
    """Case-store operations on one open session, acting as ``actor``."""

    def __init__(
        self, session: AsyncSession, cipher: FieldCipher, account: Account, actor: Actor, now: datetime
    ) -> None:
        self.session = session
        self.cipher = cipher
        self.account = account
        self.actor = actor
        self.now = now
        # What this turn has read, so a flow that asks twice costs one query (and one decryption).
        self._cases: dict[int, models.Case] = {}
        self._loans: dict[int, domain.Loan] = {}
        self._hardships: dict[int, Hardship | None] = {}
        self._finances: dict[int, Finances | None] = {}

    async def writing(self) -> None:
        """Called before the first change: a turn opens its savepoint here (see :mod:`storage.turns`)."""

    async def set_locale(self, locale: str) -> None:
        await self.writing()
        row = await accounts.account_row(self.session, self.account.id)
        row.locale = locale
        self.account = accounts.to_account(row)

    async def record_consent(self) -> None:
        await self.writing()
        row = await accounts.account_row(self.session, self.account.id)
        row.consented_at = self.now
        self.account = accounts.to_account(row)

    async def find_loans(
        self, *, id_number: str | None = None, phone: str | None = None, loan_ref: str | None = None
    ) -> list[domain.Loan]:
        return await loans.find(
            self.session, self.cipher, id_number=id_number, phone=phone, loan_ref=loan_ref, lender_id=None
        )

    async def loan(self, loan_id: int) -> domain.Loan:
        if loan_id not in self._loans:
            self._loans[loan_id] = await loans.get(self.session, self.cipher, loan_id)
        return self._loans[loan_id]

    async def lender(self, lender_id: int) -> domain.Lender:
        row = await self.session.get(models.Lender, lender_id)
        if row is None:
            raise NotFound(f"no lender {lender_id}")
        return accounts.to_lender(row)

    async def open_case(self, loan_id: int) -> domain.Case:
        await self.writing()
        loan = await self.session.get(models.Loan, loan_id)
        if loan is None:
            raise NotFound(f"no loan {loan_id}")
        # One open case per loan: a second application while one is open (or its plan runs) is refused.
        live = select(models.Case.id).where(
            models.Case.loan_id == loan_id, models.Case.state.not_in([s.value for s in TERMINAL])
        )
        if await self.session.scalar(live.limit(1)) is not None:
            raise AlreadyExists(f"loan {loan_id} already has an open case")
        return cases.to_case(await cases.open_case(self.session, self.account.id, loan, self.actor, self.now))

    async def case(self, case_id: int) -> domain.Case:
        return cases.to_case(await self._own_case(case_id))

    async def my_cases(self) -> list[domain.Case]:
        return await cases.cases_of(self.session, self.account.id)

    async def transition(
        self, case_id: int, target: CaseState, details: dict[str, Any] | None = None
    ) -> domain.Case:
        await self.writing()
        row = await cases.transition(self.session, case_id, target, self.actor, self.now, details or {})
        if target in _ENDS_OFFERS:
            # A case that ends, or goes to a mediator, leaves no offer waiting for an answer.
            status = "expired" if target is CaseState.EXPIRED else "withdrawn"
            await self.session.execute(
                update(models.Offer)
                .where(models.Offer.case_id == case_id, models.Offer.status == "pending")
                .values(status=status, decided_at=self.now)
            )
        if target in TERMINAL or target is CaseState.ESCALATED:
            row.deadline_at = None
        return cases.to_case(row)

    async def log(self, case_id: int, kind: str, details: dict[str, Any] | None = None) -> None:
        await self.writing()
        cases.append_event(self.session, await self._own_case(case_id), kind, self.actor, self.now, details)

    async def events(self, case_id: int) -> list[domain.CaseEvent]:
        await self._own_case(case_id)
        return await cases.events(self.session, case_id)

    async def save_hardship(self, case_id: int, hardship: Hardship) -> None:
        await self.writing()
        await personal.save_hardship(self.session, case_id, hardship, self.actor, self.cipher, self.now)
        self._hardships[case_id] = hardship

    async def hardship(self, case_id: int) -> Hardship | None:
        await self._own_case(case_id)
        if case_id not in self._hardships:
            self._hardships[case_id] = await personal.hardship(self.session, case_id, self.cipher)
        return self._hardships[case_id]

    async def save_finances(self, case_id: int, finances: Finances) -> None:
        await self.writing()
        await personal.save_finances(self.session, case_id, finances, self.actor, self.cipher, self.now)
        self._finances[case_id] = finances

    async def finances(self, case_id: int) -> Finances | None:
        await self._own_case(case_id)
        if case_id not in self._finances:
            self._finances[case_id] = await personal.finances(self.session, case_id, self.cipher)
        return self._finances[case_id]

    async def add_evidence(self, case_id: int, purpose: str, file: FileRef) -> None:
        await self.writing()
        case = await self._own_case(case_id)
        count = await self.session.scalar(
            select(func.count())
            .select_from(models.EvidenceFile)
            .where(models.EvidenceFile.case_id == case_id)
        )
        if (count or 0) >= MAX_EVIDENCE_PER_CASE:
            raise PermissionDenied(f"a case keeps at most {MAX_EVIDENCE_PER_CASE} files")
        self.session.add(
            models.EvidenceFile(
                case_id=case_id,
                account_id=self.account.id,
                purpose=purpose,
                file_enc=seal_file(self.cipher, file),
                mime_type=file.mime_type,
                size_bytes=file.size_bytes,
                sha256=file.sha256,
                created_at=self.now,
            )
        )
        cases.append_event(self.session, case, "evidence_added", self.actor, self.now, {"purpose": purpose})
        await self.session.flush()

    async def evidence(self, case_id: int) -> list[FileRef]:
        await self._own_case(case_id)
        query = select(models.EvidenceFile).where(models.EvidenceFile.case_id == case_id)
        rows = await self.session.scalars(query.order_by(models.EvidenceFile.id))
        return [open_file(self.cipher, row) for row in rows]

    async def choose_plan(self, case_id: int, plan: dict[str, Any] | None) -> None:
        await self.writing()
        case = await personal.editable_case(self.session, case_id, self.actor)
        case.chosen_plan = plain_json(plan)
        case.updated_at = self.now
        kind = plan.get("kind") if plan else None
        cases.append_event(self.session, case, "plan_chosen", self.actor, self.now, {"kind": kind})

    async def chosen_plan(self, case_id: int) -> dict[str, Any] | None:
        return (await self._own_case(case_id)).chosen_plan

    async def verification_failures(self, since: datetime) -> int:
        table = models.VerificationFailure
        query = select(func.count()).where(table.account_id == self.account.id, table.at >= since)
        return int(await self.session.scalar(query) or 0)

    async def record_verification_failure(self) -> None:
        await self.writing()
        self.session.add(models.VerificationFailure(account_id=self.account.id, at=self.now))
        await self.session.flush()

    async def code_requests(
        self, phone: str, *, account_since: datetime, phone_since: datetime
    ) -> tuple[int, int]:
        table = models.CodeRequest
        mine = select(func.count()).where(table.account_id == self.account.id, table.at >= account_since)
        hashes = self.cipher.lookup_hashes("code_phone", phone)
        theirs = select(func.count()).where(table.phone_hash.in_(hashes), table.at >= phone_since)
        return int(await self.session.scalar(mine) or 0), int(await self.session.scalar(theirs) or 0)

    async def record_code_request(self, phone: str) -> None:
        await self.writing()
        phone_hash = self.cipher.lookup_hash("code_phone", phone)
        self.session.add(models.CodeRequest(account_id=self.account.id, phone_hash=phone_hash, at=self.now))
        await self.session.flush()

    async def report_harassment(self, case_id: int | None, details: dict[str, Any]) -> int:
        await self.writing()
        case = await self._own_case(case_id) if case_id is not None else None
        blob = self.cipher.encrypt("harassment_reports.details", json.dumps(details, ensure_ascii=False))
        row = models.HarassmentReport(
            account_id=self.account.id, case_id=case_id, details_enc=blob, status="open", created_at=self.now
        )
        self.session.add(row)
        await self.session.flush()
        if case is not None:
            cases.append_event(
                self.session, case, "harassment_reported", self.actor, self.now, {"report": row.id}
            )
        return row.id

    async def _own_case(self, case_id: int) -> models.Case:
        row = self._cases.get(case_id)
        if row is None:
            row = await cases.case_row(self.session, case_id)
            await cases.check_party(self.session, row, self.actor)
            self._cases[case_id] = row
        return row

    async def delete_rows(self, table: type[models.Base], *conditions: Any) -> int:
        result = await self.session.execute(delete(table).where(*conditions))
        return int(getattr(result, "rowcount", 0) or 0)


_FILE = "evidence_files.file"


def seal_file(cipher: FieldCipher, file: FileRef) -> bytes:
    # A name as sent is often "name_ID-number.pdf", and a terminal path carries it too.
    return cipher.encrypt(
        _FILE, json.dumps({"name": file.file_name, "ref": file.storage_ref}, ensure_ascii=False)
    )


def open_file(cipher: FieldCipher, row: models.EvidenceFile) -> FileRef:
    """An evidence row's reference; a row from before 0004 not yet sealed still has plain columns."""
    if row.file_enc is not None:
        sealed = json.loads(cipher.decrypt(_FILE, row.file_enc))
        name, ref = sealed["name"], sealed["ref"]
    else:
        name, ref = row.file_name, row.storage_ref or ""
    return FileRef(
        storage_ref=ref, sha256=row.sha256, size_bytes=row.size_bytes, file_name=name, mime_type=row.mime_type
    )
