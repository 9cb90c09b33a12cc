"""Nothing personal rests in plain text: a whole flow typed in, then every column and the raw files read.

The outbox holds what replies are rendered from (a /mydata export, a mediator's view of the hardship, an
invite code), evidence rows hold file names as sent: all sealed like the case tables. A person's replies
go with their data on /delete; replies delivery gave up on are pruned like sent ones.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, inspect, select, text

from bot.app import check_store
from bot.demo import DEMO_BORROWER
from dialogs.domain import Channel
from dialogs.messages import InboundKind
from storage import models
from storage.db import sqlite_file
from tests.dialogs.harness import FIGURES, Bot, Person, lender_staff, operator, start_and_consent, verify

STORY = "Chemotherapy since October left me unable to work at the bakery"
INCOME = "6543.21"
FILE_NAME = f"{DEMO_BORROWER.name}_身份证_{DEMO_BORROWER.id_number}.pdf"
EVIDENCE = {
    "ref": f"/home/alice/{FILE_NAME}",  # the terminal channel keeps the path, which carries the name
    "name": FILE_NAME,
    "size": 2048,
    "sha256": "cd" * 32,
    "mime": "application/pdf",
}


async def apply_with_evidence(alice: Person, bot: Bot) -> None:
    await start_and_consent(alice)
    await verify(alice, bot)
    await alice.press("Lost my job")
    await alice.press("It will pass")
    await alice.send(STORY)
    await alice.deliver(alice.inbound(InboundKind.FILE, **EVIDENCE))
    assert FILE_NAME in alice.texts()  # the display still names the file
    await alice.press("Done")
    for amount in (INCOME, *FIGURES[1:]):
        await alice.send(amount)
    await alice.press("Yes")
    await alice.press("Interest stopped")
    await alice.press("Submit")
    assert "submitted" in alice.texts().lower(), alice.texts()


async def whole_flow(bot: Bot) -> str:
    """Application, export, mediator review, an invite; returns the invite code the mediator was given."""
    alice = bot.person("alice")
    await apply_with_evidence(alice, bot)
    await alice.send("/mydata")
    assert DEMO_BORROWER.id_number in "".join(m.text for m in alice.last)  # the export is whole for her
    olga = await operator(bot)
    await olga.send("/queue")
    await olga.press("#1")
    assert STORY in olga.texts() and FILE_NAME in olga.texts()  # the mediator's view, decrypted for them
    await lender_staff(bot, olga)
    line = next(line for line in olga.texts().splitlines() if line.startswith("Invite for"))
    await olga.press("Approve")
    return line.rsplit(" ", 1)[1]


def personal_values(code: str) -> list[str]:
    phone, number = DEMO_BORROWER.phone, DEMO_BORROWER.id_number
    return [DEMO_BORROWER.name, number, phone, STORY, INCOME, code, FILE_NAME]


def needles(value: str) -> list[bytes]:
    """The value as UTF-8, and as JSON writes it with non-ASCII escaped."""
    return sorted({value.encode(), json.dumps(value)[1:-1].encode()})


async def every_cell(bot: Bot) -> list[tuple[str, str, bytes]]:
    """Every value of every column of every table the database holds, as bytes."""
    cells: list[tuple[str, str, bytes]] = []
    async with bot.store.unit() as session:
        connection = await session.connection()
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in tables:
            result = await session.execute(text(f'SELECT * FROM "{table}"'))
            for row in result.mappings():
                for column, value in row.items():
                    if value is not None:
                        cells.append((table, column, _as_bytes(value)))
    return cells


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def raw_files(database_url: str) -> dict[Path, bytes]:
    database = sqlite_file(database_url)
    assert database is not None
    return {path: path.read_bytes() for path in (database, *database.parent.glob(database.name + "-*"))}


async def test_nothing_personal_rests_in_plain_text(bot: Bot, database_url: str) -> None:
    code = await whole_flow(bot)
    cells = await every_cell(bot)
    assert any(table == "outbox" for table, _, _ in cells) and any(t == "evidence_files" for t, _, _ in cells)
    for value in personal_values(code):
        found = [(t, c) for t, c, cell in cells for needle in needles(value) if needle in cell]
        assert found == [], f"{value!r} in plain text in {found}"
    if not database_url.startswith("sqlite"):
        return
    files = raw_files(database_url)  # read while the app runs: the WAL and its index are still there
    assert {p.name.rsplit("-", 1)[-1] for p in files} >= {"wal", "shm"}
    for path, content in files.items():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for value in personal_values(code):
            assert not any(needle in content for needle in needles(value)), f"{value!r} in {path.name}"


async def outbox_of(bot: Bot, user: str) -> list[str]:
    account = await bot.store.ensure_account(Channel.TERMINAL, user)
    box = models.OutboxMessage
    async with bot.store.unit() as session:
        query = select(box.template).where(box.account_id == account.id).order_by(box.id)
        return list(await session.scalars(query))


async def test_delete_erases_the_persons_replies_sent_and_pending(bot: Bot) -> None:
    alice = bot.person("alice")
    await start_and_consent(alice)
    await verify(alice, bot)
    await alice.send("/mydata")
    assert "mydata/export_file" in await outbox_of(bot, "alice")
    await alice.send("/delete")
    await alice.press("Yes, erase my data")
    assert "Erased:" in alice.texts()
    # Only the answer to /delete itself (and the menu after it): the export and everything before went.
    assert await outbox_of(bot, "alice") == ["mydata/deleted", "home/menu"]


async def test_replies_delivery_gave_up_on_are_pruned_too(bot: Bot, clock: Any) -> None:
    from bot.scheduler import prune

    alice = bot.person("alice")
    await alice.send("/start")
    box = models.OutboxMessage
    async with bot.store.unit() as session:
        keys = list(await session.scalars(select(box.key)))
    for key in keys:
        await bot.store.mark_failed(key, "chat not found", give_up=True)
    async with bot.store.unit() as session:
        await session.execute(box.__table__.update().values(sent_at=None))
    clock.advance(days=31)
    await prune(bot.store, clock)
    async with bot.store.unit() as session:
        assert await session.scalar(select(func.count()).select_from(box)) == 0


async def test_rows_from_before_sealing_are_sealed_at_start_up(bot: Bot, clock: Any) -> None:
    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    context = {"values": {"code": "K7PQ2MXW9A"}, "file_name": None}
    buttons = [{"choice": "g:menu", "label": "menu", "context": {}}]
    old_file = {"file_name": FILE_NAME, "storage_ref": EVIDENCE["ref"]}
    async with bot.store.unit() as session:
        await session.execute(
            insert(models.OutboxMessage).values(
                key="legacy-1",
                account_id=account.id,
                template="staff/invite_created",
                context=context,
                buttons=buttons,
                created_at=clock.now(),
                not_before=clock.now(),
                attempts=0,
                failed=False,
            )
        )
        case = models.Case(
            borrower_account_id=account.id, state="draft", created_at=clock.now(), updated_at=clock.now()
        )
        session.add(case)
        await session.flush()
        session.add(
            models.EvidenceFile(
                case_id=case.id,
                account_id=account.id,
                purpose="hardship",
                size_bytes=1,
                sha256="ab" * 32,
                created_at=clock.now(),
                **old_file,
            )
        )
    await check_store(bot.store)
    async with bot.store.unit() as session:
        row = (await session.scalars(select(models.OutboxMessage))).one()
        evidence = (await session.scalars(select(models.EvidenceFile))).one()
    assert (row.context, row.buttons, row.message_enc is not None) == (None, None, True)
    assert (evidence.file_name, evidence.storage_ref, evidence.file_enc is not None) == (None, None, True)
    (queued,) = await bot.store.unsent()
    assert queued.message.context == {"code": "K7PQ2MXW9A"} and queued.message.buttons[0].choice == "g:menu"
