"""A story that tells of collectors reaching family or work, or of threats, is recognised; others are not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.rules.harassment_words import describes_harassment

HARASSMENT = [
    "催收爆通讯录了，所有人都知道了",
    "他们威胁我说要上门",
    "每天都有人骚扰我",
    "他们打电话给我家人",
    "催收给我妈打电话",
    "打到我单位找领导",
    "联系了我的同事",
    "They called my mother three times.",
    "The collector threatened me.",
    "they phoned my boss at work",
    "They keep messaging my friends and colleagues",
    "I am being harassed every day",
]
ORDINARY = [
    "I lost my job in October and am looking for work.",
    "我失业了，正在找工作。",
    "My family helps me a bit each month.",
    "I called my bank about the overdraft.",
    "我给家人打电话借了一点钱",
    "我生病住院两个月，收入减少了",
]


@pytest.mark.parametrize("story", HARASSMENT)
def test_harassment_is_recognised(story: str) -> None:
    assert describes_harassment(story)


@pytest.mark.parametrize("story", ORDINARY)
def test_an_ordinary_story_is_not_taken_for_harassment(story: str) -> None:
    assert not describes_harassment(story)


@given(st.text(max_size=3000))
def test_any_text_is_read_without_failing(story: str) -> None:
    assert describes_harassment(story) in (True, False)
