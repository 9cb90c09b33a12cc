"""Signed agreements: once both confirmations of an agreement are in the case log under a signed head, the
platform seals the agreement (storage.signed_agreement) and sends the signed document to both sides.

This runs inside the sequencer's transaction, right after it signs the head that first covers the second
confirmation: the block, the stored copy (``agreements.signed_block``) and the outbox messages commit
with the head, or not at all. A crash before that leaves the agreement unsealed and its events queued;
the next run of the sequencer (any process, or the minute job) seals and sends it, once.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.masking import mask_name
from dialogs.messages import Outbound
from storage import models, outbox_watch
from storage.case_log import Head, hashes_of_ranges, inclusion_ranges
from storage.crypto import FieldCipher
from storage.loans import to_loan
from storage.signed_agreement import CONFIRMED_KIND, SIDES, Confirmation, seal_block, signed_document
from storage.signing import Signer, TreeHead
from storage.staff import staff_accounts
from storage.turns import message_document, seal_message

log = logging.getLogger(__name__)

SIGNED_TEMPLATE = "agreement/signed"
NOTE_TEMPLATE = "agreement/signed_note"


async def seal_agreements(session: AsyncSession, signer: Signer, cipher: FieldCipher, head: Head) -> int:
    """Seal every agreement both sides confirmed whose confirmations ``head`` covers; how many."""
    table = models.Agreement
    waiting = select(table).where(
        table.signed_block.is_(None),
        table.borrower_confirmed_at.is_not(None),
        table.lender_confirmed_at.is_not(None),
    )
    sealed = 0
    for row in await session.scalars(waiting):
        confirmations = await _confirmations(session, row, head)
        if confirmations is None:
            continue  # a confirmation is still queued: a later head covers it
        try:
            row.signed_block = seal_block(
                row.text,
                case_id=row.case_id,
                version=row.terms_version,
                confirmations=confirmations,
                head=TreeHead(head.size, head.root, head.at),
                head_signature=head.signature,
                signer=signer,
            )
        except ValueError:
            log.exception("agreement on case %s could not be sealed; it stays unsigned", row.case_id)
            continue
        await _send(session, cipher, row, head, confirmations)
        sealed += 1
    return sealed


async def _confirmations(
    session: AsyncSession, row: models.Agreement, head: Head
) -> list[Confirmation] | None:
    """Each side's confirming entry of this version, with its inclusion proof against ``head``."""
    leaves, events = models.CaseLogLeaf, models.CaseEvent
    query = (
        select(leaves.leaf_index, leaves.entry, events.actor_role, events.at, events.details)
        .join(events, events.id == leaves.event_id)
        .where(events.case_id == row.case_id, events.kind == CONFIRMED_KIND, leaves.leaf_index < head.size)
        .order_by(leaves.leaf_index)
    )
    stamps = {"borrower": row.borrower_confirmed_at, "lender": row.lender_confirmed_at}
    found: dict[str, Any] = {}
    for event in await session.execute(query):
        side = event.actor_role
        if side in stamps and event.details.get("version") == row.terms_version and side not in found:
            found[side] = event
    if set(found) != set(stamps):
        return None
    proofs = {
        side: await hashes_of_ranges(session, inclusion_ranges(e.leaf_index, head.size))
        for side, e in found.items()
    }
    return [
        Confirmation(side, event.at, event.leaf_index, bytes(event.entry), proofs[side])
        for side, event in found.items()
    ]


async def _send(
    session: AsyncSession,
    cipher: FieldCipher,
    row: models.Agreement,
    head: Head,
    confirmations: list[Confirmation],
) -> None:
    """The signed document to the borrower and the lender's staff, through the outbox, with who confirmed
    it and when in words below the block (as the unsigned copy has them; the block holds the proof)."""
    case = await session.get(models.Case, row.case_id)
    if case is None or row.signed_block is None:
        return
    names = await _party_names(session, cipher, case)
    readable = [
        {"side": c.side, "at": c.at.isoformat(), "who": names.get(c.side)}
        for c in sorted(confirmations, key=lambda c: SIDES.index(c.side))
    ]
    recipients = [case.borrower_account_id]
    if case.lender_id is not None:
        recipients += [account.id for account in await staff_accounts(session, case.lender_id)]
    document = signed_document(row.text, row.signed_block)
    name = f"agreement-{row.case_id}-v{row.terms_version}-signed.txt"
    about = {"case_id": row.case_id, "version": row.terms_version}
    rows = []
    for account_id in recipients:
        key = f"signed-agreement:{row.case_id}:{row.terms_version}:{account_id}"
        note = Outbound(account_id, NOTE_TEMPLATE, about, key=f"{key}:note")
        context = {**about, "signed": document, "confirmations": readable}
        file = Outbound(account_id, SIGNED_TEMPLATE, context, key=key, file_name=name)
        rows += [_outbox_row(cipher, message, head) for message in (note, file)]
    await session.execute(insert(models.OutboxMessage), rows)
    await outbox_watch.announce(session)


async def _party_names(session: AsyncSession, cipher: FieldCipher, case: models.Case) -> dict[str, str]:
    """The sides as the unsigned copy names them: the borrower's masked name, the lender's name."""
    loan = await session.get(models.Loan, case.loan_id) if case.loan_id is not None else None
    lender = await session.get(models.Lender, case.lender_id) if case.lender_id is not None else None
    names = {"lender": lender.name} if lender is not None else {}
    if loan is not None:
        names["borrower"] = mask_name(to_loan(loan, cipher).row.borrower_name)
    return names


def _outbox_row(cipher: FieldCipher, message: Outbound, head: Head) -> dict[str, Any]:
    return {
        "key": message.key,
        "account_id": message.account_id,
        "template": message.template,
        "message_enc": seal_message(cipher, message_document(message)),
        "created_at": head.at,
        "not_before": head.at,
        "attempts": 0,
        "failed": False,
    }
