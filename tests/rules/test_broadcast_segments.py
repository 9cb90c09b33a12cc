"""Segments as typed (CLI and chat): anything typed is either a segment that reads back the same, or one
clear refusal; never another error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.broadcasts import (
    TEMPLATES,
    BroadcastStatus,
    Progress,
    Segment,
    SegmentKind,
    check_template,
    parse_segment,
)
from dialogs.errors import InvalidInput
from templates import TEMPLATE_DIR

WORDS = st.sampled_from(["all", "due", "overdue", "lender", "channel", "state", "DUE", " lender ", "x"])


@given(st.one_of(st.text(max_size=60), st.builds(lambda w, v: f"{w}:{v}", WORDS, st.text(max_size=40))))
def test_anything_typed_is_a_segment_or_one_refusal(typed: str) -> None:
    try:
        segment = parse_segment(typed)
    except InvalidInput as refusal:
        assert str(refusal) and "\n" not in str(refusal)
        return
    assert parse_segment(segment.text()) == segment
    assert Segment.from_json(segment.to_json()) == segment


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("all", SegmentKind.ALL, None),
        (" Due:07 ", SegmentKind.DUE, "7"),
        ("overdue", SegmentKind.OVERDUE, None),
        ("lender: Demo Lender", SegmentKind.LENDER, "Demo Lender"),
        ("lender:A:B", SegmentKind.LENDER, "A:B"),
        ("channel:WeChat", SegmentKind.CHANNEL, "wechat"),
        ("state:ACTIVE", SegmentKind.STATE, "active"),
    ],
)
def test_segments_as_people_type_them(typed: str, kind: SegmentKind, value: str | None) -> None:
    assert parse_segment(typed) == Segment(kind, value)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("due", "needs a value, such as due:7"),
        ("due:-1", "whole days from 0 to 366"),
        ("due:367", "whole days from 0 to 366"),
        ("all:now", "takes no value"),
        ("channel:sms", "is not a channel"),
        ("channel:cli", "is not a channel"),  # staff's own channels are never a segment
        ("state:happy", "is not a case state"),
        ("lender:" + "x" * 201, "at most 200 characters"),
    ],
)
def test_refusals_say_what_would_be_right(typed: str, said: str) -> None:
    with pytest.raises(InvalidInput, match=said):
        parse_segment(typed)


def test_the_template_list_is_the_templates_in_every_locale() -> None:
    for locale in ("en", "zh_CN"):
        files = {p.stem for p in (TEMPLATE_DIR / locale / "broadcast").glob("*.j2")}
        assert set(TEMPLATES) <= files
    with pytest.raises(InvalidInput, match="unknown broadcast template"):
        check_template("finished")  # the creator's report, not something to broadcast


@given(
    st.dictionaries(
        st.sampled_from(["pending", "sending", "held", "sent", "failed", "skipped"]), st.integers(0, 10**6)
    )
)
def test_progress_adds_up(counts: dict[str, int]) -> None:
    progress = Progress(1, "service", "all", BroadcastStatus.RUNNING, None, counts)
    figures = progress.figures()
    assert (
        figures["sent"] + figures["failed"] + figures["held"] + figures["skipped"] + figures["to_go"]
        == progress.total
    )
    assert progress.settled == (figures["to_go"] == 0)
    sent, failed, held, skipped = (figures[k] for k in ("sent", "failed", "held", "skipped"))
    assert progress.summary() == f"sent {sent}, failed {failed}, held {held}, skipped {skipped}"
