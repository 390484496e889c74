"""Bounded types the schemas share: free-form JSON payloads and integers that fit their column."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from talkative.input import strict

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_PAYLOAD_DEPTH = 32


def _bounded_payload(value: dict[str, Any]) -> dict[str, Any]:
    """Checked again here (not only by the body gate) so a payload built any other way is bounded too."""
    try:
        strict.check(value, max_depth=MAX_PAYLOAD_DEPTH)
    except strict.UnsafeJson as exc:
        where = "".join(f"[{part!r}]" for part in exc.loc)
        raise ValueError(f"{exc.message}{' at ' + where if where else ''}") from None
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload is {size} bytes encoded; the limit is {MAX_PAYLOAD_BYTES}")
    return value


# A free-form JSON object as stored (JsonDoc columns): at most 64 KiB encoded and 32 levels deep,
# with only what both databases store and every reader renders back.
JsonPayload = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_payload),
    Field(
        description=f"A JSON object; at most {MAX_PAYLOAD_BYTES} bytes encoded, {MAX_PAYLOAD_DEPTH} levels"
    ),
]
# Integers as their columns hold them (Integer is 32-bit on PostgreSQL; 64-bit values are bounded by
# the body gate). Pydantic silently drops a bound given on the model field (`= Field(ge=1)`) next
# to an annotated one, so each pair of bounds is a type of its own.
INT32_MAX = 2**31 - 1
PositiveInt32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
