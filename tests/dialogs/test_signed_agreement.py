"""Signed agreements through the bot: once both confirmations are in the case log under a signed head, both
sides receive the agreement with the platform's signed block, /agreement shows it and says what it means,
and the document checks offline; one changed character, or another key, fails the check."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.channels.terminal import plain
from bot.demo import DEMO_BORROWER
from bot.rendering import Rendered
from storage import merkle
from storage.case_log import canonical_json
from storage.signed_agreement import check_document
from storage.signing import Signer, TreeHead, parse_moment, verify_head
from tests.dialogs.harness import Bot, Person, running_bot
from tests.dialogs.test_negotiation import approved

SIGNER = Signer(Ed25519PrivateKey.generate())


@pytest.fixture
async def signing_bot(database_url: str, clock: Any) -> AsyncIterator[Bot]:
    async with running_bot(database_url, clock, signer=SIGNER) as running:
        yield running


async def agree(bot: Bot) -> tuple[Person, Person]:
    alice, _, leo = await approved(bot)
    await leo.press("View and answer")
    await leo.press("Accept")
    alice.received()
    await alice.press("Confirm this agreement")
    await leo.press("Confirm this agreement")
    assert "Agreed: both sides confirmed version 1" in leo.texts()
    return alice, leo


async def delivered(bot: Bot) -> None:
    """What the sequencer committed to the outbox, sent (delivery's look at the outbox, without waiting)."""
    await bot.app.delivery.resume()
    await bot.app.delivery.drain()


def signed_file(messages: list[Rendered]) -> str:
    """The latest signed document among ``messages`` (on PostgreSQL the sequencer's may arrive alongside)."""
    documents = [m for m in messages if m.file_name == "agreement-1-v1-signed.txt"]
    assert documents, [m.text[:80] for m in messages]
    return html.unescape(documents[-1].text)


async def test_both_sides_receive_the_signed_agreement_once_it_is_logged(signing_bot: Bot) -> None:
    bot = signing_bot
    alice, leo = await agree(bot)
    await bot.store.sequence_log()
    await delivered(bot)
    for person in (alice, leo):
        received = person.received()
        note = "\n".join(m.text for m in received if not m.file_name)
        assert "Your signed copy of the agreement on case 1 (version 1) follows as a document." in note
        assert "loanbridge verify FILE" in note
        document = signed_file(received)
        verdict = check_document(document, SIGNER.public_key)
        assert verdict.ok, verdict.failed
        assert "-----BEGIN LOANBRIDGE SIGNATURE-----" in document and "REPAYMENT AGREEMENT" in document

    await bot.store.sequence_log()  # a later run sends nothing again
    await delivered(bot)
    assert not [m for m in alice.received() if m.file_name]

    await alice.send("/agreement")
    document = signed_file(alice.last)
    assert check_document(document, SIGNER.public_key).ok
    assert "The signature below the agreement text is LoanBridge's" in alice.texts()
    assert "loanbridge verify FILE" in alice.texts()


async def test_a_changed_character_or_another_key_fails_the_check(signing_bot: Bot) -> None:
    bot = signing_bot
    alice, _ = await agree(bot)
    await bot.store.sequence_log()
    await alice.send("/agreement")
    document = signed_file(alice.last)
    assert check_document(document, SIGNER.public_key).ok
    changed = document.replace("REPAYMENT AGREEMENT", "REPAYMENT AGREEMENt", 1)
    assert not check_document(changed, SIGNER.public_key).ok
    assert not check_document(document, Ed25519PrivateKey.generate().public_key()).ok


def confirmations_in_words(document: str) -> list[str]:
    """The lines below the signature block that say who confirmed and when."""
    below = document.split("-----END LOANBRIDGE SIGNATURE-----", 1)[1]
    return [line for line in below.splitlines() if line.strip()]


async def test_the_signed_copy_says_who_confirmed_and_when_as_the_unsigned_one_did(signing_bot: Bot) -> None:
    """Trial 2: the signed copy lacked the unsigned copy's "Confirmations of this text" lines. They are
    below the block now, in the reader's language and zone; the document still checks, and a changed
    character of its text or block still fails."""
    bot = signing_bot
    alice, _ = await agree(bot)
    unsigned = [m for m in bot.recorder.inbox["alice"] if m.file_name == "agreement-1-v1.txt"][-1]
    said = plain(unsigned.text).split("Confirmations of this text (version 1):\n", 1)[1].splitlines()
    await bot.store.sequence_log()
    await delivered(bot)
    sent = signed_file(alice.received())
    await alice.send("/agreement")
    asked = signed_file(alice.last)
    for document in (sent, asked):
        lines = confirmations_in_words(document)
        assert lines[0].startswith("Confirmations of this text (version 1), for reading:"), lines
        assert lines[1].startswith("• Borrower (张*): confirmed ") and lines[1].endswith("Beijing time")
        assert lines[2].startswith("• Lender (Demo Lender): confirmed ")
        assert lines[1:] == said  # the same lines as the unsigned copy once both had confirmed
        assert check_document(document, SIGNER.public_key).ok
        assert not check_document(
            document.replace("REPAYMENT AGREEMENT", "REPAYMENT AGREEMENt", 1), SIGNER.public_key
        ).ok
        stamp = next(line for line in document.splitlines() if line.startswith("lender-confirmed-at: "))
        moved = stamp.replace("T", "X", 1)
        assert not check_document(document.replace(stamp, moved), SIGNER.public_key).ok


async def test_before_it_is_logged_agreement_says_the_signed_copy_follows(signing_bot: Bot) -> None:
    bot = signing_bot
    alice, _ = await agree(bot)
    await alice.send("/agreement")
    if not any(m.file_name == "agreement-1-v1-signed.txt" for m in alice.last):  # not sequenced yet
        assert "follows within a minute" in alice.texts()


async def test_mydata_holds_each_logged_event_with_its_proof_and_nothing_personal(signing_bot: Bot) -> None:
    bot = signing_bot
    alice, _ = await agree(bot)
    await bot.store.sequence_log()
    await alice.send("/mydata")
    (exported,) = [m for m in alice.last if m.file_name == "loanbridge-my-data.json"]
    (case,) = json.loads(plain(exported.text))["cases"]
    log = case["case_log"]
    head = log["signed_head"]
    root, size = base64.b64decode(head["root"]), head["tree_size"]
    signed = TreeHead(size, root, parse_moment(head["time"]))
    assert verify_head(SIGNER.public_key, signed, base64.b64decode(head["signature"]))
    assert head["key_fingerprint"] == SIGNER.fingerprint
    entries = log["entries"]
    assert [e["seq"] for e in entries] == list(range(1, len(case["events"]) + 1))
    kinds = [e["entry"]["kind"] for e in entries]
    assert kinds[0] == "opened" and kinds.count("agreement_confirmed") == 2
    for e in entries:
        leaf = merkle.leaf_hash(canonical_json(e["entry"]))  # the object's compact sorted-key JSON
        proof = [base64.b64decode(node) for node in e["proof"]]
        assert merkle.verify_inclusion(leaf, e["log_index"], size, proof, root)
    logged = "\n".join(canonical_json(e["entry"]).decode() for e in entries)
    for personal in (DEMO_BORROWER.name, DEMO_BORROWER.id_number, DEMO_BORROWER.phone, "lost my job"):
        assert personal not in logged


async def test_an_agreement_confirmed_before_a_restart_is_sealed_and_sent_after_it(
    database_url: str, clock: Any
) -> None:
    async with running_bot(database_url, clock) as before:  # a process that never sequenced: it went down
        await agree(before)
    async with running_bot(database_url, clock, demo=False, signer=SIGNER) as after:
        await after.store.sequence_log()  # what serve's start-up run of the case-log job does
        await delivered(after)
        alice = after.person("alice")
        document = signed_file(alice.received())
        assert check_document(document, SIGNER.public_key).ok
        await after.store.sequence_log()
        await delivered(after)
        assert not [m for m in alice.received() if m.file_name]  # sent once


async def test_a_slip_after_agreement_asks_again_without_resending_the_document(signing_bot: Bot) -> None:
    """Trial 3: after /agreement every slip (a refused /schedule 99, a language change) re-sent the whole
    signed agreement. The document goes once a request; the step asked again says where it went and
    offers it once more."""
    bot = signing_bot
    alice, _ = await agree(bot)
    await bot.store.sequence_log()
    await delivered(bot)
    alice.received()
    await alice.send("/agreement")
    assert signed_file(alice.last)
    for slip in ("/schedule 99", "/lang"):
        await alice.send(slip)
        assert not [m for m in alice.last if m.file_name], slip
    await alice.press("中文")
    assert not [m for m in alice.last if m.file_name]
    assert "之前已作为文件 agreement-1-v1-signed.txt 发给您" in alice.texts()
    await alice.press("再发一次")
    assert signed_file(alice.last)  # asked for: sent once more
    await alice.send("/schedule 99")
    assert not [m for m in alice.last if m.file_name]
