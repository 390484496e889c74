"""Query parameters of the routes that page through events (events, agents and runs routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from talkative.events import positions

# A page of events older than this stream position (a page's `next_before`).
BeforePosition = Annotated[
    str | None,
    Query(
        max_length=positions.MAX_TEXT,
        pattern=positions.PATTERN,
        description="Only events before this position (a page's `next_before`); none: the newest",
    ),
]
