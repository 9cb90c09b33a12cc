"""``loanbridge verify FILE``: a signed agreement checked offline, as a lawyer or a court would run it.

The document is built the way the platform builds one: the confirmations are real log entries
(storage.case_log.entry_bytes) in a real RFC 6962 tree among other cases' entries, the head is signed
with the platform key, and the block is sealed over all of it. Each test then changes one thing and
reads what the command says and how it exits.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.platform_key import build_signer
from bot.settings import load_settings
from storage import merkle
from storage.case_log import entry_bytes
from storage.signed_agreement import Confirmation, check_document, seal_block, signed_document
from storage.signing import Signer, TreeHead, grouped, raw_public
from tests.dialogs.harness import running_bot
from tests.dialogs.test_signed_agreement import agree, delivered, signed_file

ROOT = Path(__file__).resolve().parents[1]
CASE, VERSION = 42, 2
BORROWER_AT = datetime(2026, 12, 1, 10, 0, 0, 250_000, tzinfo=UTC)
LENDER_AT = datetime(2026, 12, 1, 10, 5, 30, tzinfo=UTC)
HEAD_AT = datetime(2026, 12, 1, 10, 6, tzinfo=UTC)
TEXT = (
    "Repayment agreement – case 42, version 2\n"
    "还款协议：每月偿还 ¥820.55，共 24 个月。\n"
    "The lender waives ¥120.00 of overdue charges."
)


def confirming_entry(seq: int, role: str, at: datetime, version: int = VERSION) -> bytes:
    return entry_bytes(
        case_id=CASE,
        seq=seq,
        kind="agreement_confirmed",
        at=at,
        actor_account_id=3 if role == "borrower" else 9,
        actor_role=role,
        actor_channel="telegram",
        from_state=None,
        to_state=None,
        details={"version": version},
    )


def other_entry(number: int) -> bytes:
    return entry_bytes(
        case_id=100 + number % 5,
        seq=number,
        kind="transition",
        at=datetime(2026, 11, 30, 9, number % 60, tzinfo=UTC),
        actor_account_id=None,
        actor_role="system",
        actor_channel="system",
        from_state="submitted",
        to_state="reviewing",
        details={},
    )


def sealed(signer: Signer, text: str = TEXT) -> str:
    """A signed agreement for case 42 in a log of 23 entries, the confirmations at 13 and 17."""
    entries = [other_entry(n) for n in range(23)]
    entries[13] = confirming_entry(11, "borrower", BORROWER_AT)
    entries[17] = confirming_entry(12, "lender", LENDER_AT)
    tree = merkle.MerkleTree(merkle.leaf_hash(e) for e in entries)
    head = TreeHead(tree.size, tree.root(), HEAD_AT)
    confirmations = [
        Confirmation("borrower", BORROWER_AT, 13, entries[13], tree.inclusion_proof(13)),
        Confirmation("lender", LENDER_AT, 17, entries[17], tree.inclusion_proof(17)),
    ]
    block = seal_block(
        text,
        case_id=CASE,
        version=VERSION,
        confirmations=confirmations,
        head=head,
        head_signature=signer.sign_head(head.size, head.root, head.at),
        signer=signer,
    )
    return signed_document(text, block)


@dataclass
class Setup:
    signer: Signer
    document: str
    file: Path
    key: Path


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.chdir(tmp_path)
    for name in ("LOANBRIDGE_DATABASE_URL", "LOANBRIDGE_SECRET_KEY", "LOANBRIDGE_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")  # the reader's zone, whatever this machine's is
    signer = Signer(Ed25519PrivateKey.generate())
    document = sealed(signer)
    file = tmp_path / "agreement-42-v2.txt"
    file.write_text(document, encoding="utf-8")
    key = tmp_path / "loanbridge.pem"
    key.write_text(signer.public_pem(), encoding="ascii")
    return Setup(signer, document, file, key)


def verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["verify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def changed(setup: Setup, old: str, new: str) -> str:
    assert setup.document.count(old) == 1, old
    setup.file.write_text(setup.document.replace(old, new), encoding="utf-8")
    return str(setup.file)


def failed_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("[FAILED]")]


def block_line(document: str, name: str) -> str:
    return next(line for line in document.splitlines() if line.startswith(f"{name}: "))


def flip_base64(line: str) -> str:
    """The line with the first character of its value changed to another base64 character."""
    name, value = line.split(": ", 1)
    return f"{name}: {'B' if value[0] == 'A' else 'A'}{value[1:]}"


def test_a_signed_agreement_verifies_and_says_what_was_checked(setup, capsys):
    code, out, err = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")
    assert (code, err) == (0, "")
    assert failed_lines(out) == []
    lines = out.splitlines()
    assert lines[0] == f"Checking the signed agreement in {setup.file}:"
    expected = [
        "[ok] The file holds LoanBridge's signature block, for the agreement of case 42, version 2.",
        f"[ok] It names the key you check with (fingerprint {grouped(setup.signer.fingerprint)}).",
        "[ok] The platform's signature over the block is valid: nothing in the block was changed after"
        " signing.",
        "[ok] Entry 13 of the log records the borrower confirming this version on 2026-12-01 10:00:00 UTC.",
        "[ok] The borrower's confirmation is in the log at that head: its inclusion proof checks.",
        "[ok] Entry 17 of the log records the lender confirming this version on 2026-12-01 10:05:30 UTC.",
        "[ok] The lender's confirmation is in the log at that head: its inclusion proof checks.",
    ]
    for line in expected:
        assert line in lines
    text_bytes = len(TEXT.encode())
    assert any(line.startswith(f"[ok] The agreement text (the {text_bytes} bytes") for line in lines)
    assert any(
        line.startswith(
            "[ok] The log head is signed by the platform: on 2026-12-01 10:06:00 UTC the"
            " case log held 23 entries"
        )
        for line in lines
    )
    assert lines[-1].startswith("All checks passed.")


def test_one_changed_character_in_the_text_fails_the_text_only(setup, capsys):
    code, out, _ = verify(
        capsys, changed(setup, "¥820.55", "¥620.55"), "--key", str(setup.key), "--lang", "en"
    )
    assert code == 1
    assert failed_lines(out) == [
        "[FAILED] The agreement text above the block is not the text both sides confirmed: it was changed"
        f" (its SHA-256 should be {block_line(setup.document, 'text-sha256').split(': ')[1]})."
    ]
    assert "[ok] The platform's signature over the block is valid" in out
    assert out.splitlines()[-1].startswith("1 check failed, so this document cannot be relied on")


def test_a_changed_confirmation_time_fails_the_signature_and_that_confirmation(setup, capsys):
    file = changed(
        setup,
        "borrower-confirmed-at: 2026-12-01T10:00:00.250000Z",
        "borrower-confirmed-at: 2026-12-01T09:00:00.250000Z",
    )
    code, out, _ = verify(capsys, file, "--key", str(setup.key), "--lang", "en")
    assert code == 1
    assert failed_lines(out) == [
        "[FAILED] The platform's signature does not match the block: something in it (a number, a time, a"
        " proof, the log head) was changed after signing, or another key signed it.",
        "[FAILED] The log entry given as the borrower's confirmation does not record the borrower confirming"
        " this version on 2026-12-01 09:00:00 UTC.",
    ]
    assert out.splitlines()[-1].startswith("2 checks failed")


def test_a_changed_proof_fails_the_signature_and_the_inclusion(setup, capsys):
    proof_line = block_line(setup.document, "lender-proof")
    code, out, _ = verify(
        capsys, changed(setup, proof_line, flip_base64(proof_line)), "--key", str(setup.key), "--lang", "en"
    )
    assert code == 1
    failures = failed_lines(out)
    assert len(failures) == 2
    assert failures[0].startswith("[FAILED] The platform's signature does not match the block")
    assert failures[1] == (
        "[FAILED] The lender's confirmation is not proved to be in the log at that head: the entry, its"
        " position or its proof was changed."
    )


@pytest.mark.parametrize("field", ["log-size", "log-root", "log-time"])
def test_a_changed_head_fails_the_signature_the_head_and_the_inclusions(setup, capsys, field):
    line = block_line(setup.document, field)
    replacement = {
        # Doubled, the tree is a level deeper, so the proofs no longer fit it. (A proof binds the size only
        # through the root: a size with the same path shape is caught by the head's signature alone.)
        "log-size": "log-size: 46",
        "log-root": flip_base64(line),
        "log-time": "log-time: 2026-12-01T10:07:00.000000Z",
    }[field]
    code, out, _ = verify(capsys, changed(setup, line, replacement), "--key", str(setup.key), "--lang", "en")
    assert code == 1
    failures = failed_lines(out)
    assert failures[0].startswith("[FAILED] The platform's signature does not match the block")
    assert (
        failures[1] == "[FAILED] The log head's signature is not valid: its size, root or time was changed."
    )
    # The time is not part of the tree: the proofs still lead to the root; size and root break them.
    assert len(failures) == (2 if field == "log-time" else 4)


def test_a_document_signed_with_another_key_fails(setup, capsys):
    forger = Signer(Ed25519PrivateKey.generate())
    setup.file.write_text(sealed(forger), encoding="utf-8")
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")
    assert code == 1
    failures = failed_lines(out)
    assert failures[0] == (
        f"[FAILED] It names the key {grouped(forger.fingerprint)}, but you check with the key"
        f" {grouped(setup.signer.fingerprint)}: another key signed it, or this is not the right public key."
    )
    assert failures[1].startswith("[FAILED] The platform's signature does not match the block")
    assert failures[2].startswith("[FAILED] The log head's signature is not valid")
    assert len(failures) == 3


def test_a_forger_who_also_writes_the_platforms_fingerprint_still_fails(setup, capsys):
    forger = Signer(Ed25519PrivateKey.generate())
    forged = sealed(forger).replace(grouped(forger.fingerprint), grouped(setup.signer.fingerprint))
    setup.file.write_text(forged, encoding="utf-8")
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")
    assert code == 1
    assert [f.split(":")[0] for f in failed_lines(out)] == [
        "[FAILED] The platform's signature does not match the block",
        "[FAILED] The log head's signature is not valid",
    ]


def test_the_key_may_be_given_as_base64_of_its_raw_bytes(setup, capsys):
    raw = setup.key.with_suffix(".b64")
    raw.write_text(base64.b64encode(raw_public(setup.signer.public_key)).decode() + "\n", encoding="ascii")
    assert verify(capsys, str(setup.file), "--key", str(raw), "--lang", "en")[0] == 0


def test_times_are_shown_in_the_readers_zone_and_say_which(setup, capsys, monkeypatch):
    """Trial 2: the chat said 18:00 Beijing time, the report 10:00 UTC. Now the report uses --tz, else TZ,
    else the system's zone, and every time names its offset and zone; the result and exit status stay."""
    code, out, _ = verify(
        capsys, str(setup.file), "--key", str(setup.key), "--lang", "en", "--tz", "Asia/Shanghai"
    )
    assert code == 0
    assert (
        "[ok] Entry 13 of the log records the borrower confirming this version on"
        " 2026-12-01 18:00:00 UTC+08:00 (Asia/Shanghai)." in out
    )
    assert "on 2026-12-01 18:06:00 UTC+08:00 (Asia/Shanghai) the case log held 23 entries" in out
    assert " UTC." not in out
    monkeypatch.setenv("TZ", "America/New_York")
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "zh_CN")
    assert code == 0
    assert (
        "[通过] 日志第 13 条记录了借款人于 2026-12-01 05:00:00 UTC-05:00 (America/New_York) 确认此版本。"
        in out
    )
    code, out, _ = verify(
        capsys, changed(setup, "¥820.55", "¥620.55"), "--key", str(setup.key), "--tz", "Asia/Shanghai"
    )
    assert code == 1
    code, out, err = verify(capsys, str(setup.file), "--key", str(setup.key), "--tz", "Mars/Olympus")
    assert (code, out) == (2, "")
    assert "unknown time zone Mars/Olympus" in err


def test_the_report_in_chinese(setup, capsys):
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "zh_CN")
    assert code == 0
    assert out.splitlines()[0] == f"正在核验 {setup.file} 中的签名协议："
    assert "[通过] 文件中有 LoanBridge 的签名区块，对应案件 42 的协议第 2 版。" in out
    assert "[通过] 日志第 13 条记录了借款人于 2026-12-01 10:00:00 UTC 确认此版本。" in out
    assert out.splitlines()[-1].startswith("全部核验通过。")
    code, out, _ = verify(
        capsys, changed(setup, "¥820.55", "¥820.56"), "--key", str(setup.key), "--lang", "zh_CN"
    )
    assert code == 1
    assert "[未通过] 签名区块上方的协议正文不是双方确认的正文" in out
    assert out.splitlines()[-1].startswith("有 1 项核验未通过")


def test_the_language_follows_the_terminal_when_not_given(setup):
    """A real process, as a reader runs it: LANG chooses the language, the exit status tells the result."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(setup.file.parent)}
    for lang, first_word in (("zh_CN.UTF-8", "正在核验"), ("en_GB.UTF-8", "Checking")):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "verify", str(setup.file), "--key", str(setup.key)],
            env={**env, "LANG": lang},
            cwd=setup.file.parent,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(first_word)
    setup.file.write_text(setup.document.replace("24 个月", "12 个月"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "verify", str(setup.file), "--key", str(setup.key)],
        env={**env, "LANG": "en_US.UTF-8"},
        cwd=setup.file.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert "[FAILED] The agreement text above the block" in done.stdout


def test_what_cannot_be_read_exits_2_and_a_file_without_a_block_fails(setup, capsys):
    code, out, err = verify(capsys, str(setup.file.with_name("missing.txt")), "--key", str(setup.key))
    assert (code, out) == (2, "")
    assert err.startswith("cannot read ") and "missing.txt" in err
    code, _, err = verify(capsys, str(setup.file), "--key", str(setup.file.with_name("nokey.pem")))
    assert code == 2 and "cannot read the key file" in err
    setup.key.write_text("not a key at all", encoding="ascii")
    code, _, err = verify(capsys, str(setup.file), "--key", str(setup.key))
    assert code == 2 and "must be a PEM public key" in err
    binary = setup.file.with_name("photo.jpg")
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    code, _, err = verify(capsys, str(binary), "--key", str(setup.file))
    assert code == 2 and "is not a text file" in err
    plain = setup.file.with_name("plain.txt")
    plain.write_text(TEXT, encoding="utf-8")
    key = setup.file.with_name("k.pem")
    key.write_text(setup.signer.public_pem(), encoding="ascii")
    code, out, _ = verify(capsys, str(plain), "--key", str(key), "--lang", "en")
    assert code == 1
    assert failed_lines(out) == [
        "[FAILED] The file holds no LoanBridge signature block, so nothing in it can be checked. Use the"
        " agreement file the bot sent once both sides had confirmed."
    ]


def test_a_cut_short_or_added_to_block_is_named(setup, capsys):
    cut = setup.document[: setup.document.index("-----END")]
    setup.file.write_text(cut, encoding="utf-8")
    assert (
        "[FAILED] The signature block has no end line: the file was cut short."
        in verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")[1]
    )
    line = block_line(setup.document, "version")
    code, out, _ = verify(
        capsys, changed(setup, line, f"{line}\nnote: void"), "--key", str(setup.key), "--lang", "en"
    )
    assert code == 1
    assert "[FAILED] The signature block has a line that does not belong there: note: void" in out


def test_windows_line_endings_and_a_translation_above_still_verify(setup, capsys):
    translation = "Translation for reading (not binding):\nRepayment agreement ...\n\n"
    setup.file.write_bytes(("\ufeff" + translation + setup.document).replace("\n", "\r\n").encode("utf-8"))
    assert verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")[0] == 0


WORDS = (
    "\nConfirmations of this text (version 2), for reading: the signature block above holds them with their"
    ' proof, and "loanbridge verify" checks them there:\n'
    "• Borrower (张*): confirmed Dec 1, 18:00 Beijing time\n"
    "• Lender (Demo Lender): confirmed Dec 1, 18:05 Beijing time\n"
)


def test_the_confirmations_in_words_below_the_block_are_said_to_be_for_reading(setup, capsys):
    """The signed copy repeats, below the block, who confirmed and when (trial 2): it still verifies, the
    report says those lines are not what is checked, and a change to the text or block still fails."""
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")
    assert code == 0 and "Below the signature block" not in out
    setup.document += WORDS
    setup.file.write_text(setup.document, encoding="utf-8")
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "en")
    assert code == 0, out
    assert (
        "Below the signature block, 3 lines say in words who confirmed the text and when. They are for"
        " reading, not signed: the confirmations that count are the ones checked above." in out
    )
    assert out.splitlines()[-1].startswith("All checks passed.")
    code, out, _ = verify(capsys, str(setup.file), "--key", str(setup.key), "--lang", "zh_CN")
    assert code == 0 and "签名区块下方有 3 行文字" in out
    code, out, _ = verify(
        capsys, changed(setup, "¥820.55", "¥620.55"), "--key", str(setup.key), "--lang", "en"
    )
    assert code == 1 and "[FAILED] The agreement text above the block" in out
    stamp = block_line(setup.document, "lender-confirmed-at")
    code, out, _ = verify(
        capsys,
        changed(setup, stamp, stamp.replace("10:05", "10:06")),
        "--key",
        str(setup.key),
        "--lang",
        "en",
    )
    assert code == 1 and "[FAILED] The platform's signature does not match the block" in out


def test_without_a_key_it_uses_the_deployments_own(setup, capsys, monkeypatch):
    monkeypatch.setenv("LOANBRIDGE_DATABASE_URL", f"sqlite:///{setup.file.parent / 'lb.db'}")
    code, _, err = verify(capsys, str(setup.file), "--lang", "en")
    assert code == 2 and "give the platform's public key with --key" in err
    signer = build_signer(load_settings())  # the development key, created beside the database
    assert (setup.file.parent / "lb.db.signing-key").stat().st_mode & 0o777 == 0o600
    setup.file.write_text(sealed(signer), encoding="utf-8")
    assert verify(capsys, str(setup.file), "--lang", "en")[0] == 0
    code, out, _ = main(["audit", "key", "--lang", "en"]), *capsys.readouterr()
    assert code == 0
    pem, fingerprint_line = out.rsplit("\n", 2)[0], out.splitlines()[-1]
    assert pem == signer.public_pem().rstrip("\n")
    assert fingerprint_line == f"SHA-256 fingerprint: {grouped(signer.fingerprint)}"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.characters(codec="utf-8"))
def test_any_one_changed_character_of_text_or_block_fails(position, replacement):
    position %= len(DOCUMENT) - 1  # the last line break, after the END line, belongs to nothing
    original = DOCUMENT[position]
    if replacement == original or (original == "\n" and replacement == "\r"):
        return  # unchanged, or a line break still read as one (a file saved with Windows line endings)
    edited = DOCUMENT[:position] + replacement + DOCUMENT[position + 1 :]
    assert not check_document(edited, SIGNER.public_key).ok


SIGNER = Signer(Ed25519PrivateKey.generate())
DOCUMENT = sealed(SIGNER)


async def test_the_file_the_bot_sends_checks_with_the_command(database_url, clock, tmp_path, capsys):
    """A whole case to agreement through the bot; the borrower saves the signed file they received and a
    lawyer runs ``loanbridge verify`` on it with the platform's published key."""
    signer = Signer(Ed25519PrivateKey.generate())
    async with running_bot(database_url, clock, signer=signer) as bot:
        alice, _ = await agree(bot)
        await bot.store.sequence_log()
        await delivered(bot)
        document = signed_file(alice.received())
    file = tmp_path / "agreement-1-v1-signed.txt"
    file.write_text(document, encoding="utf-8")
    key = tmp_path / "loanbridge.pem"
    key.write_text(signer.public_pem(), encoding="ascii")
    # The command runs its own event loop, as from a shell: off this test's loop.
    code, out, _ = await asyncio.to_thread(verify, capsys, str(file), "--key", str(key), "--lang", "en")
    assert code == 0, out
    assert "[ok] The file holds LoanBridge's signature block, for the agreement of case 1, version 1." in out
    assert out.count("[ok] Entry ") == 2
    assert "Below the signature block, 3 lines say in words who confirmed the text and when." in out
    file.write_text(document.replace("REPAYMENT AGREEMENT", "REPAYMENT AGREEMENt", 1), encoding="utf-8")
    # The command runs its own event loop, as from a shell: off this test's loop.
    code, out, _ = await asyncio.to_thread(verify, capsys, str(file), "--key", str(key), "--lang", "en")
    assert code == 1
    assert [line.split(":")[0] for line in failed_lines(out)] == [
        "[FAILED] The agreement text above the block is not the text both sides confirmed"
    ]
