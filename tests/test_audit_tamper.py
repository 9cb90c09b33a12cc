"""Tampering end to end: a whole case to agreement through the bot, its log sequenced and signed; then an
operator with database access edits, removes and swaps events. ``loanbridge audit verify`` (the real
command, in its own process) names each by case and sequence number and exits non-zero; untouched, 0.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select, text, update

from storage import models
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.signing import (
    Signer,
    TreeHead,
    decode_signing_key,
    generate_signing_key,
    parse_moment,
    public_key_pem,
    verify_head,
)
from storage.store import SqlStore
from tests.conftest import TEST_SECRET, FakeClock
from tests.dialogs.harness import running_bot
from tests.dialogs.test_negotiation import approved

ROOT = Path(__file__).resolve().parent.parent


def audit_verify(
    database_url: str, key_file: Path, *, lang: str = "en_US.UTF-8"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LC_ALL": "",
        "LC_MESSAGES": "",
        "LANG": lang,  # the operator's language: the report's
    }
    command = [sys.executable, "-m", "bot.cli", "audit", "verify", "--key", str(key_file)]
    return subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, cwd=key_file.parent, timeout=120
    )


async def agreed_case(database_url: str, clock: FakeClock, signer: Signer) -> None:
    """Case 1 from application to a confirmed agreement, sequenced and signed at several points."""
    log = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET), clock=clock, signer=signer)
    try:
        async with running_bot(database_url, clock) as bot:
            _, _, leo = await approved(bot)
            await log.sequence_log()
            alice = bot.person("alice")
            await leo.press("View and answer")
            await leo.press("Accept")
            await log.sequence_log()
            alice.received()
            await alice.press("Confirm this agreement")
            await leo.press("Confirm this agreement")
            assert "Agreed: both sides confirmed version 1" in leo.texts()
            assert await log.sequence_log() is not None
    finally:
        await log.close()


async def tamper(database_url: str) -> dict[str, int]:
    """Edit one event's time and another's details, delete one, swap two: returns the seq of each."""
    engine = create_engine(database_url)
    events = models.CaseEvent
    try:
        async with engine.begin() as connection:
            await _lift_append_only(connection)
            rows = (
                await connection.execute(select(events).where(events.case_id == 1).order_by(events.seq))
            ).all()
            by_kind = {row.kind: row for row in rows}
            timed, detailed = rows[2], by_kind["agreement_drafted"]
            removed = by_kind["deadline_set"]
            first, second = rows[-3], rows[-2]
            await connection.execute(
                update(events).where(events.id == timed.id).values(at=timed.at + timedelta(hours=1))
            )
            changed = {**detailed.details, "hash": "0" * 64}
            await connection.execute(update(events).where(events.id == detailed.id).values(details=changed))
            await connection.execute(
                delete(models.CaseLogPending).where(models.CaseLogPending.event_id == removed.id)
            )
            await connection.execute(delete(events).where(events.id == removed.id))
            await _swap(connection, first, second)
            copied, leaves = rows[1], models.CaseLogLeaf
            where = (leaves.case_id == 1) & (leaves.seq == copied.seq)
            entry = await connection.scalar(select(leaves.entry).where(where))
            await connection.execute(update(leaves).where(where).values(entry=entry + b" "))
    finally:
        await engine.dispose()
    return {
        "copy": copied.seq,
        "time": timed.seq,
        "details": detailed.seq,
        "removed": removed.seq,
        "a": first.seq,
        "b": second.seq,
    }


_CONTENT = (
    "at",
    "kind",
    "actor_account_id",
    "actor_role",
    "actor_channel",
    "from_state",
    "to_state",
    "details",
)


async def _swap(connection: Any, first: Any, second: Any) -> None:
    """Exchange two events' contents: each keeps its place (id, seq) and takes the other's story."""
    events = models.CaseEvent
    for row, other in ((first, second), (second, first)):
        values = {name: getattr(other, name) for name in _CONTENT}
        await connection.execute(update(events).where(events.id == row.id).values(**values))


async def _lift_append_only(connection: Any) -> None:
    """What an operator with database access can do: the triggers protect against mistakes, not them."""
    if connection.dialect.name == "sqlite":
        await connection.execute(text("DROP TRIGGER case_events_no_update"))
        await connection.execute(text("DROP TRIGGER case_events_no_delete"))
    else:
        await connection.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))


async def test_audit_names_every_edited_removed_and_swapped_event(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    key_file = tmp_path / "platform.pem"
    key_file.write_text(public_key_pem(signer.public_key))
    await agreed_case(database_url, clock, signer)

    clean = await asyncio.to_thread(audit_verify, database_url, key_file)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "OK: every event is in the log as it was written" in clean.stdout
    assert "PROBLEM" not in clean.stdout

    seqs = await tamper(database_url)
    found = await asyncio.to_thread(audit_verify, database_url, key_file)
    report = found.stdout
    assert found.returncode == 1, report + found.stderr
    assert f"case 1 event #{seqs['time']}: changed after it was logged (time differ)" in report
    assert f"case 1 event #{seqs['details']}: changed after it was logged (details differ)" in report
    assert f"case 1 event #{seqs['removed']}: removed from the database" in report
    assert (
        f"case 1 event #{seqs['a']}: out of order: it now holds what the log has as case 1 event #{seqs['b']}"
        in report
    )
    assert (
        f"case 1 event #{seqs['b']}: out of order: it now holds what the log has as case 1 event #{seqs['a']}"
        in report
    )
    assert f"case 1 event #{seqs['copy']}: the log's own copy was altered" in report
    assert "does not match the entries" in report and "FAILED" in report

    # Trial 2: the same report in Chinese, from LANG as for loanbridge verify
    found = await asyncio.to_thread(audit_verify, database_url, key_file, lang="zh_CN.UTF-8")
    report = found.stdout
    assert found.returncode == 1, report + found.stderr
    assert report.startswith("检查了 ") and "平台密钥：" in report
    assert f"问题 案件 1 事件 #{seqs['time']}：写入日志后被改动过（时间不一致）" in report
    assert f"问题 案件 1 事件 #{seqs['removed']}：已从数据库中删除（日志中仍有记录）" in report
    assert (
        f"问题 案件 1 事件 #{seqs['a']}：顺序被调换：它现在的内容是日志中案件 1 事件 #{seqs['b']} 的内容"
        in report
    )
    assert "未通过：发现 " in report and "PROBLEM" not in report and "FAILED" not in report


async def test_another_key_fails_the_heads(database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    await agreed_case(database_url, clock, signer)
    other = tmp_path / "other.pem"
    other.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    result = await asyncio.to_thread(audit_verify, database_url, other)
    assert result.returncode == 1
    assert "has no valid signature" in result.stdout and "names another key" in result.stdout


def audit_head(database_url: str, folder: Path, seed: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOANBRIDGE_DATABASE_URL": database_url,
        "LOANBRIDGE_SECRET_KEY": TEST_SECRET.decode(),
        "LOANBRIDGE_SIGNING_KEY": seed,
    }
    command = [sys.executable, "-m", "bot.cli", "audit", "head", "--lang", "en"]
    return subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, cwd=folder, timeout=120
    )


async def test_audit_head_prints_the_latest_head_signed(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    seed = generate_signing_key()
    signer = Signer(decode_signing_key(seed))
    empty = await asyncio.to_thread(audit_head, database_url, tmp_path, seed)
    assert empty.returncode == 1 and "no signed head yet" in empty.stdout
    await agreed_case(database_url, clock, signer)
    printed = await asyncio.to_thread(audit_head, database_url, tmp_path, seed)
    assert printed.returncode == 0, printed.stderr
    fields = dict(line.split(": ", 1) for line in printed.stdout.splitlines()[1:])
    head = TreeHead(int(fields["size"]), base64.b64decode(fields["root"]), parse_moment(fields["time"]))
    assert printed.stdout.startswith("LoanBridge case log tree head v1\n")
    assert verify_head(signer.public_key, head, base64.b64decode(fields["signature"]))
    assert fields["key"] == signer.fingerprint
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(models.CaseEvent))
    finally:
        await engine.dispose()
    assert head.size == count  # every event of the whole case is in the head
