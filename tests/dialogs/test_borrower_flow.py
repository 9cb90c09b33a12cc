"""The whole borrower flow as a transcript, in both languages: consent, verification, hardship, finances,
plan, submission; and what the store holds afterwards.
"""

from __future__ import annotations

from dialogs.domain import Channel, HardshipReason
from dialogs.lifecycle import CaseState
from tests.dialogs.harness import Bot

FIGURES = ("6500", "1800", "1200", "300", "200", "800", "0", "150", "0", "2000")


async def test_full_flow_in_english(bot: Bot) -> None:
    alice = bot.person("alice", "en")
    await alice.send("/start")
    assert "It is free. Nobody should ever ask you to pay an agent" in alice.texts()
    await alice.press("begin")
    assert "explicit consent" in alice.texts()
    await alice.press("I consent")
    assert "loan reference" in alice.texts()
    await alice.send("DEMO-0001")
    await alice.send("张伟")
    await alice.send("110105199003071239")
    await alice.send("138 1234 5678")
    assert "6-digit code to 138****5678" in alice.texts()
    await alice.send(bot.codes.last)
    assert "loan DEMO-0001 with Demo Lender; ¥15,841.95 is outstanding" in alice.texts()
    assert "What made repaying difficult?" in alice.texts()
    await alice.press("Lost my job")
    await alice.press("It will pass")
    await alice.send("I lost my job in October and I am looking for work.")
    await alice.press("Skip")
    for amount in FIGURES:
        await alice.send(amount)
    assert "Left each month after essentials and other debts: ¥2,050.00" in alice.texts()
    assert "A plan up to ¥1,025.00 a month" in alice.texts()
    await alice.press("Yes")
    assert "You owe ¥15,841.95 in total" in alice.texts()
    assert "✓ affordable" in alice.texts()
    await alice.press("Interest stopped")
    review = alice.texts()
    assert "Borrower: 张*, ID 110***********1239, phone 138****5678" in review
    assert "110105199003071239" not in review
    assert "Plan: Interest stopped, instalments (停息挂账), ¥795.64 a month for 18 months" in review
    await alice.press("Submit")
    assert "Submitted. Your application number is 1." in alice.texts()

    account = await bot.store.ensure_account(Channel.TERMINAL, "alice")
    (case,) = await bot.store.cases_of(account.id)
    assert case.state is CaseState.SUBMITTED
    hardship = await bot.store.hardship(case.id)
    assert hardship is not None and hardship.reason is HardshipReason.JOB_LOSS and not hardship.lasting
    finances = await bot.store.finances(case.id)
    assert finances is not None and str(finances.net_monthly_income) == "6500.00"
    kinds = [event.kind for event in await bot.store.events(case.id)]
    assert kinds[0] == "opened" and kinds[-1] == "transition"


async def test_full_flow_in_chinese(bot: Bot) -> None:
    wang = bot.person("wang", "zh-hans")
    await wang.send("/start")
    assert "本服务完全免费" in wang.texts()
    await wang.press("开始吧")
    assert "明确同意" in wang.texts()
    await wang.press("我同意")
    await wang.send("DEMO-0001")
    await wang.send("张伟")
    await wang.send("110105199003071239")
    await wang.send("13812345678")
    assert "6 位验证码" in wang.texts()
    await wang.send(bot.codes.last)
    assert "未还金额为 ¥15,841.95" in wang.texts()
    await wang.press("失业")
    await wang.press("会过去的")
    await wang.send("十月份失业了，正在找工作。")
    await wang.press("跳过")
    for amount in FIGURES:
        await wang.send(amount)
    assert "每月剩余：¥2,050.00" in wang.texts()
    await wang.press("是的")
    assert "您目前共欠 ¥15,841.95" in wang.texts()
    await wang.press("停息挂账")
    assert "身份证 110***********1239" in wang.texts()
    await wang.press("提交")
    assert "已提交。您的申请编号是 1。" in wang.texts()
    await wang.send("/status")
    assert "已提交，等待调解员审核" in wang.texts()
    assert "11月2日" in wang.texts()  # the timeline's dates, written the Chinese way
