"""A case number nobody can show the sender (none such, or someone else's) gets a plain answer that names
the cases they can see, for /schedule, /case and /offer (trial 1, item 19), and changes nothing."""

from __future__ import annotations

from tests.conftest import FakeClock
from tests.dialogs.harness import Bot
from tests.dialogs.test_navigation import where
from tests.dialogs.test_negotiation import approved

REFUSED = "not something you can do here"


async def test_a_case_one_cannot_see_is_answered_with_the_cases_one_can(bot: Bot, clock: FakeClock) -> None:
    alice, olga, leo = await approved(bot)
    before = await where(bot, "alice")
    for command in ("schedule", "case", "offer"):
        await alice.send(f"/{command} 99")
        said = alice.texts()
        expected = f"There is no case 99 that you can see. Your cases: 1 (for example /{command} 1)."
        assert expected in said, said
        assert REFUSED not in said
    assert await where(bot, "alice") == before  # nothing moved

    bob = bot.person("bob")
    await bob.send("/start")
    await bob.send("/schedule 1")  # Alice's case: to Bob it reads exactly like one that does not exist
    assert "There is no case 1 that you can see. You have no case yet: /start opens the menu." in bob.texts()
    await bob.send("/case 99")
    assert "There is no case 99 that you can see. You have no case yet" in bob.texts()

    await leo.send("/case 99")
    assert "There is no case 99 that you can see. Your cases: 1 (for example /case 1)." in leo.texts()
    await olga.send("/offer 99")
    assert "There is no case 99 that you can see. /cases lists the cases you can see." in olga.texts()
    await olga.send("/case 1")  # a case one can see still opens
    assert "There is no case" not in olga.texts()


async def test_the_answer_in_chinese(bot: Bot, clock: FakeClock) -> None:
    await approved(bot)
    mei = bot.person("mei", locale="zh_CN")
    await mei.send("/start")
    await mei.send("/schedule 1")
    said = mei.texts()
    assert "没有您可以查看的案件 1。您还没有案件：/start 打开主菜单。什么都没有改变。" in said, said
