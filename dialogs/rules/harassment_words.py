"""Words in a borrower's story that describe collection harassment, so the bot can point to the report.

What collectors may not do (DESIGN §4, collection conduct): reach third parties (family, relatives, an
employer or colleagues, the whole contact list: 爆通讯录), threaten, insult or shame. A story that tells of
any of these is answered with the way to report it. A false alarm costs one kind sentence; a miss leaves a
person without the protection they are owed, so the patterns lean towards finding.
"""

from __future__ import annotations

import re
import unicodedata

# Who a collector must not reach: the people around the borrower.
_PEOPLE_ZH = (
    "家人|家里|父母|爸|妈|老婆|老公|妻子|丈夫|孩子|亲戚|亲人|朋友|"
    "同事|领导|老板|单位|公司|学校|邻居|通讯录|联系人"
)
_PEOPLE_EN = (
    r"family|relatives?|parents?|mother|mom|mum|father|dad|wife|husband|sister|brother|children|kids?|"
    r"friends?|colleagues?|co-?workers?|boss|employer|manager|work|office|company|neighbou?rs?|contacts?"
)
_ZH = re.compile(
    r"爆通讯录|爆了?我?的?通讯录|威胁|恐吓|骚扰|辱骂|侮辱|谩骂|曝光|上门|P图|暴力催收|"
    rf"(?:打电话|打给|打到|发短信|发信息|短信|联系|找|找到|通知|告诉)了?(?:给|到)?(?:我的?)?(?:{_PEOPLE_ZH})|"
    rf"给我的?(?:{_PEOPLE_ZH})(?:打电话|打了电话|发短信|发信息|发消息)"  # 给我妈打电话: not 我给家人打电话
)
_EN = re.compile(
    r"\b(?:harass\w*|threat\w*|intimidat\w*|insult\w*|abus\w*|shame[ds]?|shaming|blackmail\w*)\b|"
    r"\b(?:call|called|calling|calls|phone[ds]?|phoning|rang|ring|rings|text(?:ed|s)?|messag(?:ed|es|ing)|"
    rf"contact(?:ed|s|ing)?|visit(?:ed|s|ing)?|told|tell|emailed)\s+(?:\w+\s+){{0,2}}(?:{_PEOPLE_EN})\b",
    re.IGNORECASE,
)


def describes_harassment(text: str) -> bool:
    """Whether ``text`` tells of collectors reaching family, work or contacts, or of threats and abuse."""
    folded = unicodedata.normalize("NFKC", text)
    return bool(_ZH.search(folded) or _EN.search(folded))
