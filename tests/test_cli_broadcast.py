"""``loanbridge broadcast``: the preview and its question, --yes, --at, following (and Ctrl-C), the summary
line, and the message when no serve is running; segments checked by what the store holds.

The CLI runs in a thread (it has its own event loop, as from a shell) while a real :class:`Broadcaster`
(serve's sender) runs in the test's loop on the same database: SQLite file and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.broadcast_cli import _Drawing
from bot.broadcasting import Broadcaster
from bot.cli import main
from bot.rendering import Renderer
from dialogs.broadcasts import TEMPLATES, BroadcastStatus, Progress, RecipientStatus, parse_segment
from dialogs.domain import Account, Channel, Role
from dialogs.errors import NotFound
from dialogs.messages import Outbound
from storage import models
from storage.broadcasts import recipient_figures
from storage.crypto import FieldCipher
from storage.db import create_engine
from storage.store import SqlStore
from tests.broadcast_people import agreement, lender, person, statuses, zones
from tests.conftest import TEST_SECRET
from tests.dialogs.harness import Recorder


@dataclass
class Crowd:
    ann: int  # Telegram, English, inside her hours: sent
    bo: int  # Telegram, Chinese, outside his hours: held
    cy: int  # terminal, asked for quiet: skipped
    di: int  # WeChat, blocked the bot: skipped
    ed: int  # terminal, inside his hours: to his outbox (serve does not send on the terminal)


@pytest.fixture
async def cli_store(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SqlStore]:
    """The store the CLI opens (same URL and key), on the real clock as the CLI's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOANBRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("LOANBRIDGE_SECRET_KEY", TEST_SECRET.decode())
    store = SqlStore(create_engine(database_url), FieldCipher(TEST_SECRET))
    yield store
    await store.close()


async def crowd(store: SqlStore) -> Crowd:
    inside, outside = zones(datetime.now(UTC))
    people = Crowd(
        ann=await person(store, Channel.TELEGRAM, "101", zone=inside),
        bo=await person(store, Channel.TELEGRAM, "102", locale="zh_CN", zone=outside),
        cy=await person(store, Channel.TERMINAL, "cy", zone=inside, quiet=True),
        di=await person(store, Channel.WECHAT, "di", zone=inside, reachable=False),
        ed=await person(store, Channel.TERMINAL, "ed", locale="zh_CN", zone=inside),
    )
    await lender(store, "Quick Cash Ltd")
    await person(store, Channel.TELEGRAM, "900", role=Role.LENDER, lender="Quick Cash Ltd")  # staff: never
    return people


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
async def serve_sender(cli_store: SqlStore) -> AsyncIterator[Recorder]:
    """What ``serve`` runs: a broadcaster sending on Telegram and WeChat (recorded here)."""
    recorder = Recorder()
    senders = {Channel.TELEGRAM: recorder, Channel.WECHAT: recorder}
    async with Broadcaster(cli_store, Renderer(), senders).running():  # type: ignore[arg-type]
        yield recorder


async def test_the_preview_counts_and_shows_a_sample_per_language_and_no_sends_nothing(
    cli_store: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await crowd(cli_store)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, _ = await cli(capsys, "broadcast", "--segment", "all", "--template", "service")
    assert code == 1
    assert "broadcast 'service' to all: 5 people; 3 will get it, 2 skipped\nwill get it: 3\n" in out
    # Only those who will get it, by channel and language: Cy (quiet) and Di (blocked) are not among them.
    for channel, locale in [("telegram", "en"), ("telegram", "zh_CN"), ("terminal", "zh_CN")]:
        assert re.search(rf"{channel}\s+{locale}\s+1\n", out), out
    assert not re.search(r"(terminal|wechat)\s+en\s", out), out
    assert "  of them waiting for their hours now: 1 (they get it from 08:00 their time)\n" in out
    assert "skipped: 2\n  opted out with /quiet: 1\n  unreachable, blocked the bot: 1\n" in out
    assert "already waiting" not in out
    assert "--- sample in en ---\nA note from LoanBridge" in out
    assert "--- sample in zh_CN ---\n来自 LoanBridge" in out
    assert out.rstrip().endswith("Send it to 3 people (2 skipped)? [y/N] nothing was sent")
    assert await cli_store.latest_broadcasts() == []


async def test_confirmed_with_no_serve_running_it_says_the_broadcast_waits(
    cli_store: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await crowd(cli_store)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = await cli(capsys, "broadcast", "--segment", "all", "--template", "instalment_due")
    assert code == 0
    # The question, the creation and what waits all count the same 3 (Cy and Di are skipped).
    assert (
        "Send it to 3 people (2 skipped)? [y/N] broadcast 1 created: 3 people will get it, 2 skipped" in out
    )
    assert out.endswith(
        "broadcast 1 waits: no running process sends to these recipients yet\n"
        "  telegram: 2 recipients, sent by 'loanbridge serve' with Telegram set up\n"
        "  terminal: 1 recipient, sent by 'loanbridge chat' (anyone's), 'loanbridge scheduler' or "
        "'loanbridge serve' (each person sees it in their chat)\n"
        "Start one, then follow it: loanbridge broadcast --follow 1\n"
    ), out
    assert await statuses(cli_store, 1) == {
        people.ann: "pending",
        people.bo: "pending",
        people.cy: "skipped",  # quiet
        people.di: "skipped",  # blocked the bot
        people.ed: "pending",
    }


async def test_with_only_a_terminal_sender_running_it_follows_that_and_names_serve_for_the_rest(
    cli_store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``loanbridge scheduler`` runs (a broadcaster with no bot): it sends the terminal's, and the
    CLI says the Telegram and WeChat recipients wait for serve."""
    people = await crowd(cli_store)
    async with Broadcaster(cli_store, Renderer(), {}, process="scheduler").running():
        code, out, _ = await cli(capsys, "broadcast", "--segment", "all", "--template", "service", "--yes")
    assert code == 0, out
    assert out.endswith(
        "broadcast 1 waits: no running process sends to these recipients yet\n"
        "  telegram: 2 recipients, sent by 'loanbridge serve' with Telegram set up\n"
        "Start one, then follow it: loanbridge broadcast --follow 1\n"
    ), out
    assert await statuses(cli_store, 1) == {
        people.ann: "pending",
        people.bo: "pending",
        people.cy: "skipped",  # quiet
        people.di: "skipped",  # blocked the bot
        people.ed: "sent",  # to his outbox, for his chat
    }


async def test_yes_sends_through_serve_and_ends_with_the_summary_line(
    cli_store: SqlStore, serve_sender: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    people = await crowd(cli_store)
    code, out, _ = await cli(capsys, "broadcast", "--segment", "all", "--template", "service", "--yes")
    assert code == 0, out
    assert "Send it" not in out  # no question with --yes
    assert "] " in out and "to go" in out  # the progress line
    assert "held 1: waiting for their hours (they get it from 08:00 their time)\n" in out
    assert out.rstrip().splitlines()[-1] == "sent 2, failed 0, held 1, skipped 2"
    # Ann on Telegram got it once; Ed's is in his outbox for his terminal; the rest got nothing.
    assert [m.text.splitlines()[0] for m in serve_sender.inbox["101"]] == [
        "A note from LoanBridge, the free mediation service for online loans."
    ]
    assert set(serve_sender.inbox) == {"101"}
    assert await statuses(cli_store, 1) == {
        people.ann: "sent",
        people.bo: "held",
        people.cy: "skipped",
        people.di: "skipped",
        people.ed: "sent",
    }
    async with cli_store.unit() as session:
        box = models.OutboxMessage
        keys = list(await session.scalars(select(box.key).where(box.account_id == people.ed)))
        held = models.BroadcastRecipient
        opens = await session.scalar(select(held.not_before).where(held.account_id == people.bo))
    assert keys == [f"broadcast:1:{people.ed}"]
    assert opens is not None
    local = opens.astimezone(ZoneInfo((await cli_store.account(people.bo)).time_zone))
    assert (local.hour, local.minute) == (8, 0) and opens > datetime.now(UTC)
    # Following again later shows where it stands, at once.
    code, out, _ = await cli(capsys, "broadcast", "--follow", "1")
    assert code == 0 and out.rstrip().splitlines()[-1] == "sent 2, failed 0, held 1, skipped 2"


async def test_at_waits_for_its_time(cli_store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    await crowd(cli_store)
    at = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).replace(second=0, microsecond=0)
    naive = at.replace(tzinfo=None).isoformat()  # local time of LOANBRIDGE_TIMEZONE (Asia/Shanghai)
    code, out, _ = await cli(
        capsys,
        "broadcast",
        "--segment",
        "channel:telegram",
        "--template",
        "holiday_hours",
        "--at",
        naive,
        "--yes",
    )
    assert code == 0
    assert (
        f"broadcast 1 created: it starts at {at:%Y-%m-%d %H:%M} (Asia/Shanghai), for whoever is in "
        "channel:telegram then (2 people now); follow it: loanbridge broadcast --follow 1"
    ) in out
    progress = await cli_store.broadcast_progress(1)
    assert progress.status is BroadcastStatus.SCHEDULED and progress.scheduled_at == at
    assert await cli_store.due_broadcasts() == []  # not before its time, whoever is serving
    code, out, _ = await cli(capsys, "broadcast", "--follow", "1")
    assert code == 0 and f"broadcast 1 starts at {at:%Y-%m-%d %H:%M}" in out


async def test_at_goes_to_whoever_is_in_the_segment_when_it_starts(
    cli_store: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await crowd(cli_store)
    at = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).replace(second=0, microsecond=0)
    argv = ["broadcast", "--segment", "channel:terminal", "--template", "service", "--at", at.isoformat()]
    # The preview counts now, and says they are an estimate of a later start.
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = await cli(capsys, *argv)
    assert code == 0, out
    assert "broadcast 'service' to channel:terminal: 2 people; 1 will get it, 1 skipped\n" in out
    assert "their hours now" not in out  # who is outside their hours now says nothing about then
    assert (
        f"an estimate: these are the counts now; it starts at {at:%Y-%m-%d %H:%M} (Asia/Shanghai) and goes "
        "to whoever is in channel:terminal then"
    ) in out
    assert (
        f"Send it at {at:%Y-%m-%d %H:%M} (Asia/Shanghai) to whoever is in the segment then (1 person now)?"
        in (out)
    )
    assert await statuses(cli_store, 1) == {}  # nobody is fixed yet
    # Fay joins the terminal before it starts; then its time comes (moved here, not waited for).
    fay = await person(cli_store, Channel.TERMINAL, "fay")
    async with cli_store.unit() as session:
        await session.execute(
            update(models.Broadcast).values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await cli_store.due_broadcasts() == [1]
    assert await statuses(cli_store, 1) == {people.cy: "skipped", people.ed: "pending", fay: "pending"}
    assert await cli_store.due_broadcasts() == [1]  # started once: its recipients are written once
    assert len(await statuses(cli_store, 1)) == 3
    progress = await cli_store.broadcast_progress(1)
    assert progress.status is BroadcastStatus.RUNNING and progress.total == 3


async def test_bad_input_is_refused_in_one_line_and_creates_nothing(
    cli_store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    await crowd(cli_store)
    cases = [
        (["--segment", "everyone", "--template", "service"], "error: unknown segment 'everyone'"),
        (["--segment", "due:soon", "--template", "service"], "due:N takes whole days from 0 to 366"),
        (["--segment", "lender:Nobody Ltd", "--template", "service"], "Nobody Ltd"),
        (["--segment", "all", "--template", "service", "--at", "tomorrow"], "is not an ISO time"),
        (["--template", "service"], "give --segment and --template (or --follow ID)"),
        (["--follow", "99"], "there is no broadcast 99"),
    ]
    for argv, said in cases:
        code, _, err = await cli(capsys, "broadcast", *argv)
        assert code in (1, 2) and said in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
    assert await cli_store.latest_broadcasts() == []


async def test_segments_name_the_borrowers_the_store_holds(cli_store: SqlStore) -> None:
    store = cli_store
    quick, other = await lender(store, "Quick Cash Ltd"), await lender(store, "Other Ltd")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    soon = await person(store, Channel.TELEGRAM, "1")
    await agreement(store, soon, quick, [(today + timedelta(days=3), "500.00", "0.00")])
    later = await person(store, Channel.TELEGRAM, "2")
    await agreement(store, later, quick, [(today + timedelta(days=20), "500.00", "0.00")])
    late = await person(store, Channel.WECHAT, "3", locale="zh_CN")
    await agreement(store, late, other, [(today - timedelta(days=2), "800.00", "300.00")])
    paid = await person(store, Channel.TERMINAL, "4")  # overdue date, but paid: in neither
    await agreement(store, paid, other, [(today - timedelta(days=2), "800.00", "800.00")])
    done = await person(store, Channel.TERMINAL, "5")
    await agreement(store, done, quick, [(today + timedelta(days=1), "100.00", "0.00")], state="defaulted")
    # Partly paid, where text order and number order disagree (SQLite keeps exact amounts as text).
    part = await person(store, Channel.TELEGRAM, "6")
    await agreement(store, part, quick, [(today + timedelta(days=3), "240.00", "40.00")])
    part_late = await person(store, Channel.TELEGRAM, "7", locale="zh_CN")
    await agreement(store, part_late, other, [(today - timedelta(days=1), "1000.00", "250.00")])
    await person(store, Channel.TELEGRAM, "900", role=Role.OPERATOR)  # never a recipient

    async def named(text: str) -> int:
        return (await store.broadcast_preview(parse_segment(text))).total

    assert await named("all") == 7
    assert await named("due:7") == 2  # the active cases' instalments within a week, partly paid too
    assert await named("due:30") == 3
    assert await named("overdue") == 2
    assert await named("lender:Quick Cash Ltd") == 4
    assert await named("lender:other ltd") == 3  # the letters' case does not matter
    assert await named("channel:terminal") == 2
    assert await named("state:defaulted") == 1
    assert await named("state:active") == 6
    with pytest.raises(NotFound):
        await named("lender:Nobody")
    # The figures a template gets: the next unpaid instalment, what is still due on it, overdue or not.
    preview = await store.broadcast_preview(parse_segment("overdue"))
    assert preview.samples["zh_CN"]["instalment"] == {
        "number": 1,
        "due_date": (today - timedelta(days=2)).isoformat(),
        "amount": "500.00",
        "overdue": True,
    }
    assert preview.samples["zh_CN"]["lender"] == "Other Ltd"
    async with store.unit() as session:
        figures = (await recipient_figures(session, [part], today))[part]
    assert figures["instalment"] == {
        "number": 1,
        "due_date": (today + timedelta(days=3)).isoformat(),
        "amount": "200.00",
        "overdue": False,
    }


FOLLOW = """
import sys
from bot.cli import main
sys.exit(main(["broadcast", "--follow", sys.argv[1]]))
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_ctrl_c_stops_following_not_sending(cli_store: SqlStore, tmp_path: Path) -> None:
    people = await crowd(cli_store)
    broadcast_id = await cli_store.create_broadcast(parse_segment("all"), "service")
    alive = asyncio.Event()

    async def beating() -> None:  # a serve that is alive but (for this test) sends nothing
        while True:
            await cli_store.beat("a-serve")
            alive.set()
            await asyncio.sleep(0.5)

    beat = asyncio.create_task(beating())
    try:
        await alive.wait()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", FOLLOW, str(broadcast_id), stdout=asyncio.subprocess.PIPE, cwd=tmp_path
        )
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), 30)
        assert b"skipped 2, to go 3" in first, first
        process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(process.stdout.read(), 30)
        assert await process.wait() == 0
    finally:
        beat.cancel()
    assert rest.decode().strip() == (
        f"stopped following; the sending goes on: loanbridge broadcast --follow {broadcast_id}"
    )
    assert await statuses(cli_store, broadcast_id) == {
        people.ann: "pending",
        people.bo: "pending",
        people.cy: "skipped",
        people.di: "skipped",
        people.ed: "pending",
    }


async def test_the_same_message_still_waiting_is_said_and_those_people_are_not_given_it_twice(
    cli_store: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial 3: Bob was held in four broadcasts, three of them the same notice."""
    people = await crowd(cli_store)
    first = await cli_store.create_broadcast(parse_segment("channel:telegram"), "service")
    other = await cli_store.create_broadcast(parse_segment("all"), "holiday_hours")  # another message
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = await cli(capsys, "broadcast", "--segment", "all", "--template", "service")
    assert code == 0, out
    assert "broadcast 'service' to all: 5 people; 1 will get it, 4 skipped\n" in out
    assert (
        f"  the same message is already waiting for 2 of them (broadcast {first}): they are not given it"
        " twice\n"
    ) in out
    assert "--- sample in zh_CN ---\n来自 LoanBridge" in out  # Ed, the one who gets it, reads Chinese
    assert "--- sample in en ---" not in out  # every English reader is skipped
    made = max(await cli_store.latest_broadcasts())
    assert (
        f"Send it to 1 person (4 skipped)? [y/N] broadcast {made} created: 1 person will get it, 4 skipped"
        in out
    )
    assert await statuses(cli_store, made) == {
        people.ann: "skipped",  # already waiting in the first
        people.bo: "skipped",
        people.cy: "skipped",
        people.di: "skipped",
        people.ed: "pending",
    }
    assert (await cli_store.broadcast_progress(other)).count(RecipientStatus.PENDING) == 3
    # Asked again, nobody would get it: it says so and makes nothing.
    code, out, _ = await cli(capsys, "broadcast", "--segment", "all", "--template", "service", "--yes")
    assert code == 0 and out == "nobody in all would get it (5 skipped): nothing to send\n", out
    assert max(await cli_store.latest_broadcasts()) == made


def test_progress_is_honest_when_only_people_waiting_for_their_hours_remain() -> None:
    """Trial 3: "100%  sent 0, failed 0, waiting for the window 1, to go 0"."""
    out = io.StringIO()

    async def draw() -> None:
        counts = {"held": 1, "skipped": 1}
        _Drawing(out).show(Progress(1, "service", "all", BroadcastStatus.RUNNING, None, counts))

    asyncio.run(draw())
    assert out.getvalue() == (
        "[###############...............]  50%  sent 0, failed 0, skipped 1, to go 0,"
        " 1 waiting for their hours (from 08:00 their time)\n"
    )


NO_CASE = {"case_id": None, "case_state": None, "lender": None, "instalment": None}
WORDS_FOR_A_CASE = ("agreement", "/schedule", "due date", "/status", "协议", "到期日", "申请进展")


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_broadcast_reads_right_for_someone_with_no_case(template: str, locale: str) -> None:
    """Trial 3: Ana, mid-verification, was told about "your agreement" and "/schedule"."""
    reader = Account(0, Channel.TERMINAL, "ana", Role.BORROWER, locale, "Asia/Shanghai", True)
    text = Renderer().render(Outbound(0, f"broadcast/{template}", dict(NO_CASE)), reader).text
    assert not [word for word in WORDS_FOR_A_CASE if word in text], text
    assert "/start" in text  # what someone with no case can do next


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Your application 2 (your loan from Demo Lender) stands at: plan running."),
        ("zh_CN", "您的申请 2（Demo Lender 的借款）目前的进展：还款方案执行中。"),
    ],
)
def test_the_service_notice_says_where_an_application_stands_in_plain_words(
    locale: str, expected: str
) -> None:
    figures = {"case_id": 2, "case_state": "active", "lender": "Demo Lender", "instalment": None}
    reader = Account(0, Channel.TERMINAL, "bob", Role.BORROWER, locale, "Asia/Shanghai", True)
    text = Renderer().render(Outbound(0, "broadcast/service", figures), reader).text
    assert expected in text
    assert "stands: plan running" not in text
