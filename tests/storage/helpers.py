"""Building blocks for store tests: a lender with a loan book, and the people around a case."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.domain import Account, Actor, Channel, Role
from storage.store import SqlStore
from tests.samples import loan_row


@dataclass
class People:
    borrower: Account
    staff: Account
    operator: Account
    other_borrower: Account
    other_staff: Account
    loan_id: int

    def actor(self, who: str) -> Actor:
        if who == "system":
            return Actor.system()
        account: Account = getattr(self, who)
        return Actor(role=account.role, channel=account.channel, account_id=account.id)


async def people(store: SqlStore) -> People:
    await store.add_lender("Quick Cash Ltd")
    await store.add_lender("Other Lender")
    await store.import_loan_book("Quick Cash Ltd", [loan_row()])
    (loan,) = await store.find_loans(loan_ref="L-0001")
    return People(
        borrower=await store.ensure_account(Channel.TELEGRAM, "1001"),
        staff=await store.grant_role(Channel.TELEGRAM, "2001", Role.LENDER, lender_name="Quick Cash Ltd"),
        operator=await store.grant_role(Channel.TERMINAL, "op", Role.OPERATOR),
        other_borrower=await store.ensure_account(Channel.WECHAT, "o-other"),
        other_staff=await store.grant_role(Channel.TELEGRAM, "2002", Role.LENDER, lender_name="Other Lender"),
        loan_id=loan.id,
    )
