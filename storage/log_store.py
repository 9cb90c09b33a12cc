"""The case log's part of :class:`storage.store.SqlStore` (a mixin): sequencing soon after commits that
wrote events, signed heads, a case's entries with their proofs, and sealing agreements as they are logged.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import Clock
from storage import models
from storage.agreement_log import seal_agreements
from storage.case_log import (
    Head,
    LoggedEvent,
    Sequencing,
    case_entries,
    consistency_proof,
    inclusion_proof,
    latest_head,
    sequence,
    to_head,
    wrote_events,
)
from storage.crypto import FieldCipher
from storage.signing import Signer

SEQUENCE_DELAY = 0.5  # seconds after a commit: a burst of turns is sequenced (and signed) once


class CaseLogStore:
    """The case log's part of :class:`storage.store.SqlStore`: sequencing, heads, entries and proofs."""

    _log_signer: Signer | None
    _sequencing: Sequencing

    if TYPE_CHECKING:  # provided by SqlStore

        def unit(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]: ...

        @property
        def clock(self) -> Clock: ...

        @property
        def cipher(self) -> FieldCipher: ...

    @property
    def signs_log(self) -> bool:
        """Whether this store sequences and signs the log (it was given the platform's signing key)."""
        return self._log_signer is not None

    def _start_case_log(self, signer: Signer | None) -> None:
        self._log_signer = signer
        self._sequencing = Sequencing(self.sequence_log, SEQUENCE_DELAY)

    def _committed(self, session: AsyncSession) -> None:
        """After a commit: events it queued are sequenced soon, off the reply's path."""
        if wrote_events(session) and self._log_signer is not None:
            self._sequencing.soon()

    async def _stop_case_log(self) -> None:
        await self._sequencing.stop()

    async def sequence_log(self) -> Head | None:
        """Sequence everything queued (in transactions of SEQUENCE_BATCH events); the newest head signed,
        or None when nothing was waiting."""
        if self._log_signer is None:
            raise RuntimeError("the case log has no signing key: the store was opened without one")
        newest = None
        while True:
            async with self.unit() as session:
                head = await sequence(session, self._log_signer, self.clock.now())
                if head is not None:
                    await seal_agreements(session, self._log_signer, self.cipher, head)
            if head is None:
                return newest
            newest = head

    async def latest_head(self) -> Head | None:
        async with self.unit() as session:
            return await latest_head(session)

    async def heads(self) -> list[Head]:
        heads = models.SignedTreeHead
        async with self.unit() as session:
            return [to_head(row) for row in await session.scalars(select(heads).order_by(heads.tree_size))]

    async def case_log_entries(self, case_id: int) -> list[LoggedEvent]:
        """The case's logged events with inclusion proofs against the latest signed head."""
        async with self.unit() as session:
            return await case_entries(session, case_id)

    async def log_consistency(self, old_size: int, new_size: int) -> list[bytes]:
        async with self.unit() as session:
            return await consistency_proof(session, old_size, new_size)

    async def log_inclusion(self, index: int, size: int) -> list[bytes]:
        async with self.unit() as session:
            return await inclusion_proof(session, index, size)
