"""The mediator's /cases for plans that ran shows what is left under the plan and the next instalment, not
the debt before the plan and an offer deadline long past (trial 1, item 13)."""

from __future__ import annotations

from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_breach_completion import sweep
from tests.dialogs.test_payments import active_plan, at, report


async def test_cases_shows_a_running_plans_figures(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await active_plan(bot)
    await olga.send("/cases")
    listed = olga.texts()
    line = next(line for line in listed.splitlines() if line.startswith("• #1 "))
    assert "¥14,321.55 left under the plan, next: ¥795.64 due December 2, 2026 (instalment 1)" in line, line
    assert "owed" not in line and "next deadline" not in line and "waiting" not in line

    at(clock, "2026-12-02")
    await report(alice, "800")
    await leo.press("Confirm ¥800.00 received")
    await olga.send("/cases")
    line = next(line for line in olga.texts().splitlines() if line.startswith("• #1 "))
    assert "¥13,521.55 left under the plan, next: ¥791.28 due January 2, 2027 (instalment 2)" in line, line

    at(clock, "2027-01-18", hour=17)
    assert await sweep(bot, clock) == 1
    await olga.send("/cases")
    line = next(line for line in olga.texts().splitlines() if line.startswith("• #1 "))
    assert "in breach" in line and "first unpaid: ¥791.28 due January 2, 2027 (instalment 2)" in line, line


async def test_the_case_view_of_a_running_plan(bot: Bot, clock: FakeClock) -> None:
    _alice, olga, _leo = await active_plan(bot)
    await olga.send("/case 1")
    view = olga.texts()
    assert "Under the plan: ¥14,321.55 left; next: ¥795.64 due December 2, 2026 (instalment 1)" in view, view
    assert "Next deadline" not in view  # the offer's deadline, long past


async def test_the_mediator_sees_where_a_receipt_is_kept(bot: Bot, clock: FakeClock) -> None:
    alice, olga, _leo = await active_plan(bot)
    at(clock, "2026-12-02")
    await report(alice, "800", receipt=True)  # transfer.jpg, kept by the channel as telegram:file-17
    await olga.send("/case 1")
    view = olga.texts()
    assert "Where the files are kept" in view, view
    assert "• transfer.jpg (image/jpeg, 48000 bytes): telegram:file-17, sha256 abababababab…" in view
