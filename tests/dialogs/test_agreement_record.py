"""The agreement records who confirmed it and when; a discounted settlement's text has no tolerance clause
that would contradict "void if missed".
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.channels.terminal import plain
from bot.demo import DEMO_BORROWER
from dialogs.masking import mask_name
from tests.conftest import FakeClock
from tests.dialogs.harness import Bot, Person
from tests.dialogs.test_blind_bid_paths import _bid
from tests.dialogs.test_negotiation import approved


def _document(person: Person) -> str:
    return next(plain(m.text) for m in reversed(person.last) if m.file_name)


async def test_the_confirmed_document_names_both_confirmations_and_their_times(
    bot: Bot, clock: FakeClock
) -> None:
    alice, _, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Accept")
    assert "Confirmations" not in _document(leo)  # the draft: nobody has confirmed yet
    clock.current = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    await alice.press("Confirm this agreement")
    clock.current = datetime(2026, 11, 2, 11, 15, tzinfo=UTC)
    await leo.press("Confirm this agreement")
    document = _document(leo)
    assert "Confirmations of this text (version 1):" in document
    # People are named as people read them (trial 1, item 18), never by the store's account numbers
    borrower = mask_name(DEMO_BORROWER.name)
    assert f"• Borrower ({borrower}): confirmed Nov 2, 18:00 Beijing time" in document, document
    assert "• Lender (Demo Lender): confirmed Nov 2, 19:15 Beijing time" in document
    assert "(account" not in document
    alice.received()
    await alice.send("/agreement")
    assert "confirmed Nov 2, 19:15 Beijing time" in _document(alice)


async def test_a_discounted_settlement_has_no_tolerance_to_contradict_it(bot: Bot) -> None:
    alice, _, leo = await approved(bot)
    await _bid(alice, leo, "9000", "8600")
    document = _document(leo)
    assert "3. Settlement" in document and "void" in document
    assert "Tolerance" not in document and "move it to the end" not in document
