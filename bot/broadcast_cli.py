"""``loanbridge broadcast``: create an operator broadcast (preview and confirm first) and follow it.

The CLI never sends: it writes the broadcast and its recipients to the store, and the running senders
send them: ``loanbridge serve`` for Telegram and WeChat (it owns each bot's rate), and for the terminal any
of ``serve``, ``scheduler`` or ``chat`` (through the outbox; each person sees it in their chat). Following
only reads progress, so Ctrl-C stops following, not sending; ``--follow ID`` follows again. When no running
process sends to a channel that still has recipients to go, the CLI says which process to start (the
senders' heartbeats name their command and channels) instead of waiting in silence.

With ``--at`` the recipients are whoever is in the segment when it starts: the preview's counts are now's,
shown as an estimate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.app import opened_store
from bot.broadcasting import LOST_AFTER, TEMPLATE_DIR
from bot.channels.terminal import plain
from bot.rendering import Renderer, plural
from bot.settings import Settings
from dialogs.broadcasts import (
    TEMPLATES,
    BroadcastStatus,
    Preview,
    Progress,
    RecipientStatus,
    check_template,
    parse_segment,
)
from dialogs.domain import Account, Channel, Role
from dialogs.errors import InvalidInput
from dialogs.messages import Outbound
from dialogs.rules.conduct import SendWindow
from storage.broadcasts import PEOPLE_CHANNELS
from storage.store import SqlStore

FOLLOW_SECONDS = 0.5  # how often progress is read
PLAIN_EVERY = 5.0  # without a terminal, a progress line this often (a log, not a redrawn bar)
BAR = 30
# One name for the recipients held outside their hours ("held" in the summary line).
WAITING = "waiting for their hours"
OPENS = f"{SendWindow().start:%H:%M} their time"
SENT_BY = {  # which running process sends a channel's recipients
    Channel.TELEGRAM.value: "'loanbridge serve' with Telegram set up",
    Channel.WECHAT.value: "'loanbridge serve' with WeChat set up",
    Channel.TERMINAL.value: "'loanbridge chat' (anyone's), 'loanbridge scheduler' or 'loanbridge serve'"
    " (each person sees it in their chat)",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = commands.add_parser(
        "broadcast",
        help="send a message to a segment of borrowers (the running serve, scheduler or chat sends it),"
        " or follow one",
        description="Segments: all, due:N (an instalment due within N days), overdue, lender:NAME, "
        "channel:telegram|wechat|terminal, state:STATE. Each recipient gets it in their language, "
        "within their hours (08:00-21:00 their time); those who sent /quiet or blocked the bot are skipped.",
    )
    send.add_argument("--segment", help="who gets it, such as due:3 or lender:'Demo Lender'")
    send.add_argument("--template", choices=TEMPLATES, help="templates/<locale>/broadcast/NAME.j2")
    send.add_argument(
        "--at",
        help="not before this time (ISO, e.g. 2026-12-24T09:00; in LOANBRIDGE_TIMEZONE, Asia/Shanghai by"
        " default, unless it gives an offset such as +08:00); it goes to whoever is in the segment then",
    )
    send.add_argument("--yes", action="store_true", help="no preview or question (for cron)")
    send.add_argument("--follow", type=int, metavar="ID", help="follow a broadcast created earlier")
    send.set_defaults(run=broadcast)


async def broadcast(args: argparse.Namespace, settings: Settings) -> int:
    if args.follow is not None:
        async with opened_store(settings) as store:
            return await follow(store, args.follow, settings.timezone)
    if not args.segment or not args.template:
        print("broadcast: give --segment and --template (or --follow ID)", file=sys.stderr)
        return 2
    segment = parse_segment(args.segment)
    template = check_template(args.template)
    at = parse_at(args.at, settings.timezone) if args.at else None
    async with opened_store(settings) as store:
        preview = await store.broadcast_preview(segment, template=template)
        later = _local(at, settings.timezone) if at is not None and at > store.clock.now() else None
        if not args.yes and preview.total:
            show_preview(preview, template, segment.text(), settings.timezone, starts=later)
        nobody = _nobody(preview, segment.text()) if later is None else None
        if nobody is not None:
            print(nobody)
            return 0
        if not args.yes and not await confirmed(_question(preview, later)):
            print("nothing was sent")
            return 1
        broadcast_id = await store.create_broadcast(segment, template, scheduled_at=at)
        if later is not None:
            print(
                f"broadcast {broadcast_id} created: it starts at {later}, for whoever is in "
                f"{segment.text()} then ({plural(preview.reached, 'person', 'people')} now); "
                f"follow it: loanbridge broadcast --follow {broadcast_id}"
            )
            return 0
        made = await store.broadcast_progress(broadcast_id)
        skipped = made.count(RecipientStatus.SKIPPED)
        print(
            f"broadcast {broadcast_id} created: {plural(made.total - skipped, 'person', 'people')} will get"
            f" it, {skipped} skipped"
        )
        return await follow(store, broadcast_id, settings.timezone)


def _nobody(preview: Preview, segment: str) -> str | None:
    """Why there is nothing to send now, if so (a later start may find people in the segment then)."""
    if preview.total == 0:
        return f"nobody is in the segment {segment}: nothing to send"
    if preview.reached == 0:
        return f"nobody in {segment} would get it ({preview.skipped} skipped): nothing to send"
    return None


def _question(preview: Preview, later: str | None = None) -> str:
    """The confirmation, counting only who will get it (the skipped are in the preview above)."""
    reached = plural(preview.reached, "person", "people")
    if later is not None:
        return f"Send it at {later} to whoever is in the segment then ({reached} now)? [y/N] "
    skipped = preview.skipped
    return f"Send it to {reached}" + (f" ({skipped} skipped)" if skipped else "") + "? [y/N] "


def parse_at(text: str, time_zone: str) -> datetime:
    """An ISO time; without an offset it is the configured zone's wall clock."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"--at {text[:40]!r} is not an ISO time such as 2026-12-24T09:00") from None
    return moment.replace(tzinfo=ZoneInfo(time_zone)) if moment.tzinfo is None else moment


def show_preview(
    preview: Preview,
    template: str,
    segment: str,
    time_zone: str,
    out: TextIO | None = None,
    *,
    starts: str | None = None,
) -> None:
    """``starts``: a later start (``--at``), when the counts below are only an estimate of who gets it."""
    out = out or sys.stdout
    print(
        f"broadcast {template!r} to {segment}: {plural(preview.total, 'person', 'people')};"
        f" {preview.reached} will get it, {preview.skipped} skipped",
        file=out,
    )
    if starts is not None:
        print(
            f"an estimate: these are the counts now; it starts at {starts} and goes to whoever is in "
            f"{segment} then",
            file=out,
        )
    print(f"will get it: {preview.reached}", file=out)
    for (channel, locale), count in sorted(preview.by_channel_locale.items()):
        print(f"  {channel:<9} {locale:<6} {count:>8}", file=out)
    if starts is None:  # who is outside their hours now says nothing about a later start
        print(f"  of them {WAITING} now: {preview.outside_window} (they get it from {OPENS})", file=out)
    print(f"skipped: {preview.skipped}", file=out)
    print(f"  opted out with /quiet: {preview.opted_out}", file=out)
    print(f"  unreachable, blocked the bot: {preview.unreachable}", file=out)
    if preview.already_waiting:
        earlier = ", ".join(str(i) for i in preview.waiting_in)
        print(
            f"  the same message is already waiting for {preview.already_waiting} of them"
            f" (broadcast {earlier}): they are not given it twice",
            file=out,
        )
    renderer = Renderer()
    for locale, figures in sorted(preview.samples.items()):
        reader = Account(0, Channel.TERMINAL, "sample", Role.BORROWER, locale, time_zone, True)
        rendered = renderer.render(Outbound(0, f"{TEMPLATE_DIR}/{template}", dict(figures)), reader)
        print(f"--- sample in {locale} ---\n{plain(rendered.text)}", file=out)
    print("---", file=out)


async def confirmed(question: str) -> bool:
    print(question, end="", flush=True)
    try:
        answer = await asyncio.to_thread(sys.stdin.readline)
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


async def follow(store: SqlStore, broadcast_id: int, time_zone: str, out: TextIO | None = None) -> int:
    """Progress until nothing is left to send now; Ctrl-C stops following (serve keeps sending)."""
    out = out or sys.stdout
    progress = await store.broadcast_progress(broadcast_id)
    if progress.status is BroadcastStatus.SCHEDULED and progress.scheduled_at is not None:
        print(f"broadcast {broadcast_id} starts at {_local(progress.scheduled_at, time_zone)}", file=out)
        return 0
    stop = asyncio.Event()
    with _stopping_on_ctrl_c(stop.set):
        draw = _Drawing(out)
        while not progress.settled:
            unsent = await _nobody_sends(store, broadcast_id)
            if unsent and sum(unsent.values()) >= progress.to_go:
                draw.end()
                print(_waits(progress, unsent), file=out)
                return 0
            draw.show(progress)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FOLLOW_SECONDS):  # not wait_for: it may swallow a cancel
                    await stop.wait()
            if stop.is_set():
                draw.end()
                print(
                    f"stopped following; the sending goes on: loanbridge broadcast --follow {broadcast_id}",
                    file=out,
                )
                return 0
            progress = await store.broadcast_progress(broadcast_id)
        draw.show(progress)
        draw.end()
    held = progress.count(RecipientStatus.HELD)
    if held:
        print(f"held {held}: {WAITING} (they get it from {OPENS})", file=out)
    print(progress.summary(), file=out)
    return 0


async def _nobody_sends(store: SqlStore, broadcast_id: int) -> dict[str, int]:
    """Recipients still to go on channels that no running process claims, by channel."""
    reached = {channel for sender in await store.live_senders(LOST_AFTER) for channel in sender.channels}
    if reached >= PEOPLE_CHANNELS:
        return {}
    to_go = await store.to_go_by_channel(broadcast_id)
    return {channel: count for channel, count in sorted(to_go.items()) if channel not in reached}


def _waits(progress: Progress, unsent: dict[str, int]) -> str:
    """Which process to start, per channel still waiting (one line each)."""
    lines = [f"broadcast {progress.id} waits: no running process sends to these recipients yet"]
    for channel, count in unsent.items():
        sender = SENT_BY.get(channel, "'loanbridge serve'")
        lines.append(f"  {channel}: {plural(count, 'recipient')}, sent by {sender}")
    lines.append(f"Start one, then follow it: loanbridge broadcast --follow {progress.id}")
    return "\n".join(lines)


def _local(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime(f"%Y-%m-%d %H:%M ({time_zone})")


class _Drawing:
    """A progress bar redrawn in place on a terminal; elsewhere a plain line now and then."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._last = 0.0
        self._drawn = False

    def show(self, progress: Progress) -> None:
        loop_time = asyncio.get_running_loop().time()
        if not self._tty and self._drawn and loop_time - self._last < PLAIN_EVERY:
            return
        self._last, self._drawn = loop_time, True
        total = max(progress.total, 1)
        f = progress.figures()
        done = f["sent"] + f["failed"] + f["skipped"]  # the held are not done: they wait for their hours
        filled = BAR * done // total
        line = (
            f"[{'#' * filled}{'.' * (BAR - filled)}] {100 * done // total:3d}%  sent {f['sent']}, "
            f"failed {f['failed']}, skipped {f['skipped']}, to go {f['to_go']}"
        )
        if f["held"]:
            line += f", {f['held']} {WAITING} (from {OPENS})"
        print(("\r" + line) if self._tty else line, end="" if self._tty else "\n", file=self._out, flush=True)

    def end(self) -> None:
        if self._tty and self._drawn:
            print(file=self._out)
        self._drawn = False


@contextlib.contextmanager
def _stopping_on_ctrl_c(stop: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, stop)
    except (NotImplementedError, RuntimeError):  # not the main thread: Ctrl-C ends the command instead
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
