"""Offers, agreements, relayed words and blind bids, as a turn's sender may touch them.

Every call checks who acts: a party only on their own case (see :func:`storage.cases.check_party`), only
the side an offer waits on may answer it, and a blind bid's bounds never leave this module except as the
pair that decides it.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from dialogs import domain
from dialogs.domain import MessageKind, OfferStatus, Role
from dialogs.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from dialogs.lifecycle import CaseState
from storage import cases, models
from storage.case_work import CaseWork
from storage.types import plain_json

MAX_MESSAGE = 2000
# Where a side may still propose terms (a mediator also on cases it has taken over).
_OPEN_FOR_PARTIES = frozenset({CaseState.APPROVED, CaseState.NEGOTIATING})
_OPEN_FOR_MEDIATOR = _OPEN_FOR_PARTIES | {CaseState.EXPIRED, CaseState.ESCALATED}
_WRITERS = {
    MessageKind.RELAY: {Role.BORROWER, Role.LENDER},
    MessageKind.MEDIATOR: {Role.OPERATOR},
    MessageKind.INFO_REQUEST: {Role.OPERATOR},
    MessageKind.INFO_REPLY: {Role.BORROWER},
    MessageKind.REASON: {Role.OPERATOR, Role.LENDER, Role.BORROWER},  # why an offer was rejected, too
}


class NegotiationWork(CaseWork):
    """See the module docstring."""

    @property
    def role(self) -> Role | None:
        return self.actor.role

    def require_operator(self) -> None:
        if self.role is not Role.OPERATOR:
            raise PermissionDenied("only a mediator may do this")

    def require_side(self) -> Role:
        """The sender's side of a case: borrower or lender (mediators and the system stand apart)."""
        if self.role not in (Role.BORROWER, Role.LENDER):
            raise PermissionDenied("only the borrower or the lender can do this")
        return self.role

    # Offers

    async def offers(self, case_id: int) -> list[domain.Offer]:
        await self._own_case(case_id)
        query = select(models.Offer).where(models.Offer.case_id == case_id).order_by(models.Offer.id)
        return [_offer(row) for row in await self.session.scalars(query)]

    async def pending_offer(self, case_id: int) -> domain.Offer | None:
        await self._own_case(case_id)
        row = await self._pending_row(case_id)
        return _offer(row) if row else None

    async def make_offer(
        self,
        case_id: int,
        terms: dict[str, Any],
        deadline: datetime,
        *,
        settled: bool = False,
        proposer: Role | None = None,
    ) -> domain.Offer:
        """Propose terms; a pending offer from the other side is thereby countered (one pending at most).

        ``settled``: terms both sides already accepted, which only a blind bid that just overlapped gives.
        ``proposer``: a mediator approving an application puts the borrower's chosen plan forward as theirs.
        """
        await self.writing()
        case = await self._own_case(case_id)
        side = self.role if proposer is None else proposer
        if side is not self.role and (self.role is not Role.OPERATOR or side is not Role.BORROWER):
            raise PermissionDenied("only a mediator puts forward the borrower's own plan")
        if settled:
            await self._require_settled_bid(case_id)
        allowed = _OPEN_FOR_MEDIATOR if self.role is Role.OPERATOR else _OPEN_FOR_PARTIES
        if side is None or CaseState(case.state) not in allowed:
            raise PermissionDenied(f"no offers can be made on a case that is {case.state}")
        if self.role is not Role.OPERATOR and not settled:
            await self._refuse_while_agreeing(case_id)
        pending = await self._pending_row(case_id)
        if pending is not None:
            if pending.proposer_role == side.value and side is not Role.OPERATOR and not settled:
                raise AlreadyExists("your offer is still waiting for an answer")
            pending.status = OfferStatus.COUNTERED.value
            pending.decided_at = self.now
            await self.session.flush()  # the one-pending index must see it decided before the new one
        count = await self.session.scalar(
            select(func.count()).select_from(models.Offer).where(models.Offer.case_id == case_id)
        )
        row = models.Offer(
            case_id=case_id,
            round=int(count or 0) + 1,
            proposer_role=side.value,
            proposer_account_id=self.account.id if self.actor.account_id else None,
            plan_kind=str(terms["kind"]),
            months=int(terms["months"]),
            monthly_amount=Decimal(str(terms["monthly_amount"])),
            first_due_date=None,
            amount_waived=Decimal(str(terms.get("amount_waived") or 0)),
            settlement_amount=Decimal(str(terms["total_repaid"])) if terms.get("void_if_missed") else None,
            total_repaid=Decimal(str(terms["total_repaid"])),
            terms={**plain_json(terms), "accepted_by": ["borrower", "lender"] if settled else []},
            status=(OfferStatus.ACCEPTED if settled else OfferStatus.PENDING).value,
            decided_at=self.now if settled else None,
            deadline_at=deadline,
            created_at=self.now,
        )
        self.session.add(row)
        case.deadline_at = deadline
        case.updated_at = self.now
        await self.session.flush()
        cases.append_event(
            self.session, case, "offer_made", self.actor, self.now, {"offer": row.id, "round": row.round}
        )
        return _offer(row)

    async def _refuse_while_agreeing(self, case_id: int) -> None:
        """Terms both sides accepted (a draft agreement) are confirmed, or a mediator reopens them."""
        row = await self.session.scalar(select(models.Agreement).where(models.Agreement.case_id == case_id))
        if row is not None and not (row.borrower_confirmed_at and row.lender_confirmed_at):
            raise PermissionDenied("both sides accepted terms: they are to be confirmed, not bargained over")

    async def _require_settled_bid(self, case_id: int) -> None:
        """A blind bid that overlapped settles its case once: its status moves from overlap to settled."""
        row = await self._bid_row(case_id, "overlap")
        if row is None:
            raise PermissionDenied("only a blind bid that overlapped settles a case without an answer")
        row.status = "settled"

    async def answer_offer(self, offer_id: int, accept: bool) -> domain.Offer:
        """Accept or reject a pending offer as one of the sides it waits on."""
        await self.writing()
        row = await self.session.get(models.Offer, offer_id)
        if row is None:
            raise NotFound(f"no offer {offer_id}")
        case = await self._own_case(row.case_id)
        offer = _offer(row)
        side = self.require_side()
        if offer.status is not OfferStatus.PENDING:
            raise PermissionDenied("this offer is no longer open")
        if side not in offer.answerers or side in offer.accepted_by:
            raise PermissionDenied("this offer is not yours to answer")
        if not accept:
            row.status, row.decided_at = OfferStatus.REJECTED.value, self.now
        else:
            accepted = [*offer.accepted_by, side]
            row.terms = {**row.terms, "accepted_by": [r.value for r in accepted]}
            if offer.answerers <= set(accepted):
                row.status, row.decided_at = OfferStatus.ACCEPTED.value, self.now
        kind = "offer_accepted" if accept else "offer_rejected"
        cases.append_event(self.session, case, kind, self.actor, self.now, {"offer": offer_id})
        await self.session.flush()
        return _offer(row)

    async def expire_offer(self, offer_id: int) -> None:
        """The system's: an offer nobody answered in time."""
        await self.writing()
        if self.role is not None:
            raise PermissionDenied("only the system expires offers")
        await self.session.execute(
            update(models.Offer)
            .where(models.Offer.id == offer_id, models.Offer.status == OfferStatus.PENDING.value)
            .values(status=OfferStatus.EXPIRED.value, decided_at=self.now)
        )

    async def revive_offer(self, case_id: int, deadline: datetime) -> domain.Offer | None:
        """The mediator's: the latest offer, if it lapsed unanswered, waits for its answer again."""
        await self.writing()
        if self.role is not Role.OPERATOR:
            raise PermissionDenied("only a mediator revives an offer")
        case = await self._own_case(case_id)
        if await self._pending_row(case_id) is not None:
            return None
        query = select(models.Offer).where(models.Offer.case_id == case_id)
        latest = await self.session.scalar(query.order_by(models.Offer.id.desc()).limit(1))
        if latest is None or latest.status != OfferStatus.EXPIRED.value:
            return None
        latest.status, latest.decided_at, latest.deadline_at = OfferStatus.PENDING.value, None, deadline
        await self.session.flush()
        cases.append_event(self.session, case, "offer_revived", self.actor, self.now, {"offer": latest.id})
        return _offer(latest)

    async def set_deadline(self, case_id: int, deadline: datetime | None) -> None:
        """By when the side whose turn it is must act (the pending offer's deadline moves with it)."""
        await self.writing()
        case = await self._own_case(case_id)
        case.deadline_at = deadline
        pending = await self._pending_row(case_id)
        if pending is not None and deadline is not None:
            pending.deadline_at = deadline
        cases.append_event(self.session, case, "deadline_set", self.actor, self.now, {})

    async def _pending_row(self, case_id: int) -> models.Offer | None:
        query = select(models.Offer).where(models.Offer.case_id == case_id, models.Offer.status == "pending")
        return await self.session.scalar(query)

    # Agreement

    async def agreement(self, case_id: int) -> domain.Agreement | None:
        await self._own_case(case_id)
        row = await self.session.scalar(select(models.Agreement).where(models.Agreement.case_id == case_id))
        return _agreement(row) if row else None

    async def draft_agreement(self, case_id: int, offer: domain.Offer, text: str) -> domain.Agreement:
        """The accepted offer's terms as the text both sides confirm; a new draft is a new version."""
        await self.writing()
        case = await self._own_case(case_id)
        if offer.case_id != case_id or offer.status is not OfferStatus.ACCEPTED:
            raise PermissionDenied("only an accepted offer of this case becomes its agreement")
        digest = hashlib.sha256(text.encode()).hexdigest()
        row = await self.session.scalar(select(models.Agreement).where(models.Agreement.case_id == case_id))
        if row is None:
            row = models.Agreement(case_id=case_id, terms_version=0, created_at=self.now)
            self.session.add(row)
        elif row.borrower_confirmed_at and row.lender_confirmed_at:
            raise PermissionDenied("this case's agreement is already confirmed")
        row.offer_id, row.terms, row.text, row.content_hash = offer.id, plain_json(offer.terms), text, digest
        row.terms_version += 1
        row.borrower_confirmed_at = row.lender_confirmed_at = None
        await self.session.flush()
        details = {"version": row.terms_version, "hash": digest}
        cases.append_event(self.session, case, "agreement_drafted", self.actor, self.now, details)
        return _agreement(row)

    async def confirm_agreement(self, case_id: int, version: int) -> domain.Agreement:
        """Confirm the exact version shown; any other version is refused (the terms changed since)."""
        await self.writing()
        case = await self._own_case(case_id)
        side = self.require_side()
        if CaseState(case.state) is not CaseState.NEGOTIATING:
            raise PermissionDenied(f"no agreement is confirmed on a case that is {case.state}")
        row = await self.session.scalar(select(models.Agreement).where(models.Agreement.case_id == case_id))
        if row is None or row.terms_version != version:
            raise StaleVersion(version, row.terms_version if row else None)
        if await self._pending_row(case_id) is not None:
            raise PermissionDenied("new terms are on the table: this version can no longer be confirmed")
        if side is Role.BORROWER:
            row.borrower_confirmed_at = row.borrower_confirmed_at or self.now
        else:
            row.lender_confirmed_at = row.lender_confirmed_at or self.now
        await self.session.flush()
        cases.append_event(
            self.session, case, "agreement_confirmed", self.actor, self.now, {"version": version}
        )
        return _agreement(row)

    async def schedule_instalments(self, case_id: int, due: list[tuple[date, Decimal]]) -> None:
        """The confirmed agreement's instalments, once."""
        await self.writing()
        await self._own_case(case_id)
        row = await self.session.scalar(select(models.Agreement).where(models.Agreement.case_id == case_id))
        if row is None or not (row.borrower_confirmed_at and row.lender_confirmed_at):
            raise PermissionDenied("instalments follow a confirmed agreement")
        for number, (day, amount) in enumerate(due, start=1):
            self.session.add(
                models.Instalment(
                    agreement_id=row.id,
                    number=number,
                    due_date=day,
                    amount=amount,
                    paid_amount=Decimal(0),
                    status="due",
                )
            )
        await self.session.flush()

    async def next_instalment(self, case_id: int) -> tuple[int, date, Decimal] | None:
        await self._own_case(case_id)
        table, agreements = models.Instalment, models.Agreement
        query = (
            select(table)
            .join(agreements, agreements.id == table.agreement_id)
            .where(agreements.case_id == case_id, table.status != "paid")
            .order_by(table.due_date, table.number)
            .limit(1)
        )
        row = await self.session.scalar(query)
        return None if row is None else (row.number, row.due_date, row.amount - row.paid_amount)

    # Words people write on a case

    async def add_message(self, case_id: int, kind: MessageKind, text: str, to: tuple[Role, ...]) -> int:
        await self.writing()
        case = await self._own_case(case_id)
        if self.role not in _WRITERS[kind]:
            raise PermissionDenied(f"a {self.role} does not write {kind.value} messages")
        if not text.strip() or len(text) > MAX_MESSAGE:
            raise InvalidInput(f"a message is 1 to {MAX_MESSAGE} characters")
        row = models.CaseMessage(
            case_id=case_id,
            kind=kind.value,
            sender_account_id=self.actor.account_id,
            sender_role=self.role.value if self.role else None,
            recipients=",".join(role.value for role in to),
            text_enc=self.cipher.encrypt("case_messages.text", text),
            created_at=self.now,
        )
        self.session.add(row)
        await self.session.flush()
        cases.append_event(
            self.session, case, f"message_{kind.value}", self.actor, self.now, {"message": row.id}
        )
        return row.id

    async def case_message(self, message_id: int) -> domain.CaseMessage:
        row = await self.session.get(models.CaseMessage, message_id)
        if row is None:
            raise NotFound(f"no message {message_id}")
        await self._own_case(row.case_id)
        message = self._message(row)
        if self.role in (Role.BORROWER, Role.LENDER) and self.role not in (*message.to, message.sender_role):
            raise PermissionDenied("this message was not for you")
        return message

    async def messages(self, case_id: int) -> list[domain.CaseMessage]:
        """The case's written words the sender may read (a mediator all of them)."""
        await self._own_case(case_id)
        query = select(models.CaseMessage).where(models.CaseMessage.case_id == case_id)
        found = [
            self._message(row) for row in await self.session.scalars(query.order_by(models.CaseMessage.id))
        ]
        if self.role is Role.OPERATOR or self.role is None:
            return found
        return [m for m in found if self.role in m.to or m.sender_role is self.role]

    def _message(self, row: models.CaseMessage) -> domain.CaseMessage:
        return domain.CaseMessage(
            id=row.id,
            case_id=row.case_id,
            kind=MessageKind(row.kind),
            sender_role=Role(row.sender_role) if row.sender_role else None,
            to=tuple(Role(r) for r in row.recipients.split(",") if r),
            text=self.cipher.decrypt("case_messages.text", row.text_enc),
            created_at=row.created_at,
        )

    # Blind bid

    async def blind_bid(self, case_id: int) -> domain.BlindBid | None:
        """The open round, or the latest one (so both sides can see how it ended)."""
        await self._own_case(case_id)
        query = select(models.BlindBidRow).where(models.BlindBidRow.case_id == case_id)
        row = await self.session.scalar(query.order_by(models.BlindBidRow.id.desc()).limit(1))
        return _bid(row) if row else None

    async def open_blind_bid(self, case_id: int) -> domain.BlindBid:
        await self.writing()
        case = await self._own_case(case_id)
        side = self.require_side()
        if CaseState(case.state) not in _OPEN_FOR_PARTIES:
            raise PermissionDenied(f"no blind bid on a case that is {case.state}")
        await self._refuse_while_agreeing(case_id)
        current = await self.blind_bid(case_id)
        if current is not None and current.status == "open":
            raise AlreadyExists("a blind bid is already open on this case")
        row = models.BlindBidRow(
            case_id=case_id, proposer_role=side.value, status="open", created_at=self.now
        )
        self.session.add(row)
        await self.session.flush()
        cases.append_event(self.session, case, "blind_bid_opened", self.actor, self.now, {"bid": row.id})
        return _bid(row)

    async def give_bound(self, case_id: int, bound: Decimal) -> tuple[Decimal, Decimal] | None:
        """Record the sender's private bound; once both are in, (borrower's, lender's) to decide it."""
        await self.writing()
        case = await self._own_case(case_id)
        side = self.require_side()
        row = await self._bid_row(case_id, "open")
        if row is None:
            raise NotFound("there is no open blind bid on this case")
        column = "borrower_bound_enc" if side is Role.BORROWER else "lender_bound_enc"
        if getattr(row, column) is not None:
            raise AlreadyExists("your bound is already in")
        setattr(row, column, self.cipher.encrypt(f"blind_bids.{column}", str(bound)))
        await self.session.flush()
        cases.append_event(self.session, case, "blind_bound_given", self.actor, self.now, {"bid": row.id})
        if row.borrower_bound_enc is None or row.lender_bound_enc is None:
            return None
        return (
            Decimal(self.cipher.decrypt("blind_bids.borrower_bound_enc", row.borrower_bound_enc)),
            Decimal(self.cipher.decrypt("blind_bids.lender_bound_enc", row.lender_bound_enc)),
        )

    async def close_blind_bid(self, case_id: int, settled: bool) -> None:
        await self.writing()
        case = await self._own_case(case_id)
        row = await self._bid_row(case_id, "open")
        if row is None or row.borrower_bound_enc is None or row.lender_bound_enc is None:
            raise PermissionDenied("a blind bid closes when both bounds are in")
        row.status, row.decided_at = ("overlap" if settled else "no_overlap"), self.now
        await self.session.flush()  # the settlement that follows looks the overlap up (no autoflush here)
        details = {"bid": row.id, "settled": settled}
        cases.append_event(self.session, case, "blind_bid_closed", self.actor, self.now, details)

    async def _bid_row(self, case_id: int, status: str) -> models.BlindBidRow | None:
        table = models.BlindBidRow
        return await self.session.scalar(
            select(table).where(table.case_id == case_id, table.status == status)
        )


class StaleVersion(PermissionDenied):
    """A confirmation of agreement terms that have changed since they were shown."""

    def __init__(self, given: int, current: int | None) -> None:
        super().__init__(f"version {given} is not the current version ({current})")
        self.given = given
        self.current = current


def _offer(row: models.Offer) -> domain.Offer:
    terms = dict(row.terms)
    accepted = tuple(Role(r) for r in terms.pop("accepted_by", []))
    return domain.Offer(
        id=row.id,
        case_id=row.case_id,
        round=row.round,
        proposer=Role(row.proposer_role),
        terms=terms,
        status=OfferStatus(row.status),
        deadline_at=row.deadline_at,
        created_at=row.created_at,
        accepted_by=accepted,
        decided_at=row.decided_at,
    )


def _agreement(row: models.Agreement) -> domain.Agreement:
    return domain.Agreement(
        case_id=row.case_id,
        offer_id=row.offer_id,
        version=row.terms_version,
        terms=dict(row.terms),
        text=row.text,
        content_hash=row.content_hash,
        borrower_confirmed_at=row.borrower_confirmed_at,
        lender_confirmed_at=row.lender_confirmed_at,
        created_at=row.created_at,
        signed_block=row.signed_block,
    )


def _bid(row: models.BlindBidRow) -> domain.BlindBid:
    return domain.BlindBid(
        id=row.id,
        case_id=row.case_id,
        proposer=Role(row.proposer_role),
        status=row.status,
        borrower_given=row.borrower_bound_enc is not None,
        lender_given=row.lender_bound_enc is not None,
    )
