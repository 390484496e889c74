"""Keyset cursors: what is encoded comes back, anything else is a 422, and pages cut at the limit."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from talkative.errors import InvalidInput
from talkative.paging import Cursor, decode, encode, page_of

AT = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor", [Cursor(0, AT, "run_1"), Cursor(1, AT, "apr|with|bars"), Cursor(9, AT, "x" * 64)]
)
def test_round_trip(cursor: Cursor) -> None:
    assert decode(encode(cursor)) == cursor


def test_a_time_in_another_zone_comes_back_in_utc() -> None:
    plus_two = AT.astimezone(timezone(timedelta(hours=2)))
    assert decode(encode(Cursor(0, plus_two, "r"))).at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "!!!",
        _b64("nope"),
        _b64("0|2026-12-01T12:00:00|naive"),
        _b64("0|not a time|id"),
        _b64("10|2026-12-01T12:00:00+00:00|rank too big"),
        _b64("-1|2026-12-01T12:00:00+00:00|negative"),
        _b64("0|2026-12-01T12:00:00+00:00|"),
        _b64("0|2026-12-01T12:00:00+00:00|" + "x" * 65),
        _b64("0|0001-01-01T00:00:00+01:00|before year 1"),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_anything_else_is_a_422(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode(text)
    assert caught.value.status == 422 and caught.value.code == "INVALID_CURSOR"


def test_pages_cut_at_the_limit_on_either_end() -> None:
    rows = [Cursor(0, AT + timedelta(seconds=i), f"r{i}") for i in range(4)]
    assert page_of(rows[:3], 3, lambda c: c, newest_last=True) == (rows[:3], None)
    older, after = page_of(rows, 3, lambda c: c, newest_last=True)
    assert older == rows[1:] and after is not None and decode(after) == rows[1]
    top, following = page_of(rows, 3, lambda c: c, newest_last=False)
    assert top == rows[:3] and following is not None and decode(following) == rows[2]
