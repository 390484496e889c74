"""Stream positions: the order in which committed events are served, live and on resume.

An event's id is handed out when it is inserted, but transactions commit in another order: on
PostgreSQL a reader that moved past id 12 would never see id 11 if it committed later. So the
position is the pair (xact, id), where `xact` is the id of the transaction that stored the event
(`pg_current_xact_id()`), and a reader is served only events whose transaction is older than its
snapshot's xmin: every transaction that could still commit has a larger id than everything served,
so nothing is ever skipped. On SQLite, which lets one writer commit at a time, `xact` is 0 and the
position is the id alone, as it always was.

On the wire (SSE `id:`, Last-Event-ID, `?after=`) a position is "xact.id", or just "id" when
xact is 0; a plain id given on PostgreSQL is looked up (`service.resume_from`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_PART = 2**63 - 1  # both parts are 64-bit in the store
MAX_TEXT = 40  # "xact.id": two 19-digit numbers and a dot
PATTERN = r"^(\d{1,19}\.)?\d{1,19}$"  # for query parameters; `parse` is the check that counts
_FORM = re.compile(r"^(?:(\d{1,19})\.)?(\d{1,19})$")


class Position(NamedTuple):
    xact: int
    id: int

    def __str__(self) -> str:
        return f"{self.xact}.{self.id}" if self.xact else str(self.id)


START = Position(0, 0)


def parse(text: str) -> tuple[Position, bool] | None:
    """The position written as `text`, and whether it named its transaction ("xact.id") rather
    than only an id; None when it is not a position."""
    match = _FORM.match(text.strip())
    if match is None:
        return None
    xact, event_id = int(match.group(1) or 0), int(match.group(2))
    if xact > MAX_PART or event_id > MAX_PART:
        return None
    return Position(xact, event_id), match.group(1) is not None


def at(text: str) -> Position:
    """The position of a stored event (`Event.position`, always well formed)."""
    parsed = parse(text)
    if parsed is None:
        raise ValueError(f"not a stream position: {text!r}")
    return parsed[0]
