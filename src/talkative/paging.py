"""Keyset cursors: where a page of a list ended, as an opaque string the client hands back.

A cursor is (rank, time, id) of the last row served: `rank` orders groups (pending approvals
before decided ones), time and id order rows within one. Opaque, so its form may change; a cursor
that does not decode is the caller's error (422), never a 500.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, NamedTuple, TypeVar

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime

from talkative.errors import InvalidInput

MAX_CURSOR = 200


class Cursor(NamedTuple):
    rank: int
    at: datetime
    id: str


T = TypeVar("T")


def page_of(
    rows: list[T], limit: int, cursor_of: Callable[[T], Cursor], *, newest_last: bool
) -> tuple[list[T], str | None]:
    """The page in rows fetched with `limit + 1`, and the cursor of the next one (None: no more).

    The one row beyond the limit only says there are more: it is the first of a newest-last list,
    the last of a top-down one; the next page starts after the page's far end."""
    if len(rows) <= limit:
        return rows, None
    page = rows[1:] if newest_last else rows[:limit]
    return page, encode(cursor_of(page[0] if newest_last else page[-1]))


def encode(cursor: Cursor) -> str:
    text = f"{cursor.rank}|{cursor.at.astimezone(UTC).isoformat()}|{cursor.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        rank, at, key = raw.split("|", 2)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not key or len(key) > 64 or not 0 <= int(rank) < 10:
            raise ValueError(raw)
        return Cursor(int(rank), moment.astimezone(UTC), key)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(f"not a cursor from this API: {text!r}", code="INVALID_CURSOR") from None


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 once in UTC; a ValueError is a 422
        raise ValueError("out of range in UTC") from None


# A time in a query: with its zone (a naive one is ambiguous), read as UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]

CursorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A page's `next_before`: the page of older entries before it",
    ),
]
