"""Strict JSON: only values that both databases store and every reader renders back.

Python's `json` accepts what PostgreSQL refuses (`\\u0000`, lone surrogates), what JSON itself does
not define (NaN, Infinity, and `1e400`, which becomes infinity), integers no column holds, and
nesting deep enough to break the serialisers that later render it. Each is refused here with the
place it was found, so the caller gets a 422 instead of a stored row that fails every read.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_BODY_DEPTH = 64  # a request body; free-form payloads inside it have their own, lower limit
MAX_INT_DIGITS = 20  # int64 with its sign: longer digit runs are refused before int() parses them
# Well below the depth at which pydantic's serialiser gives up (about 255 levels), envelope included.
MAX_RENDER_DEPTH = 128
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

Location = tuple[str | int, ...]


class UnsafeJson(ValueError):
    """A value outside what Talkative stores; `loc` is where it was found."""

    def __init__(self, message: str, loc: Location = ()) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


def _constant(name: str) -> NoReturn:
    raise UnsafeJson(f"{name} is not a number JSON can carry; send a finite number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJson(f"number {text[:40]} is out of range")
    return value


def _int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise UnsafeJson(f"integer {text[:40]}... is out of range (64-bit)")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise UnsafeJson(f"integer {text} is out of range (64-bit)")
    return value


_DECODER = json.JSONDecoder(parse_float=_float, parse_int=_int, parse_constant=_constant)


def loads(body: bytes, *, max_depth: int = MAX_BODY_DEPTH) -> Any:
    """Parses a request body strictly; raises UnsafeJson (or json.JSONDecodeError for bad syntax)."""
    try:
        text = body.decode("utf-8")  # strict: `json.loads(bytes)` lets encoded surrogates through
    except UnicodeDecodeError as exc:
        raise UnsafeJson(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise UnsafeJson(f"nested deeper than {max_depth} levels") from None
    # The parse hooks have bounded the numbers. Without an escape no string can hold NUL or a lone
    # surrogate (raw control characters are refused by the parser), and with no more brackets than
    # `max_depth` the nesting cannot exceed it: most bodies need no walk at all.
    strings = "\\u" in text
    if strings or text.count("{") + text.count("[") > max_depth:
        check(value, max_depth=max_depth, strings=strings)
    return value


def check(value: Any, *, max_depth: int, strings: bool = True) -> None:
    """Raises UnsafeJson for nesting beyond `max_depth` (the top-level value is level 1), a string
    (key or value) holding NUL or a lone surrogate, a non-finite float or an integer beyond 64 bits."""
    _walk(value, 1, max_depth, strings, ())


def _walk(value: Any, depth: int, max_depth: int, strings: bool, loc: Location) -> None:
    if isinstance(value, dict):
        if depth > max_depth:
            raise UnsafeJson(f"nested deeper than {max_depth} levels", loc)
        for key, item in value.items():
            if strings and isinstance(key, str) and _UNSTORABLE.search(key):
                raise UnsafeJson(_bad_string(key), (*loc, key))
            _walk(item, depth + 1, max_depth, strings, (*loc, key))
    elif isinstance(value, list):
        if depth > max_depth:
            raise UnsafeJson(f"nested deeper than {max_depth} levels", loc)
        for index, item in enumerate(value):
            _walk(item, depth + 1, max_depth, strings, (*loc, index))
    elif isinstance(value, str):
        if strings and _UNSTORABLE.search(value):
            raise UnsafeJson(_bad_string(value), loc)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeJson("NaN and Infinity are not numbers JSON can carry; send a finite number", loc)
    elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise UnsafeJson("integer is out of range (64-bit)", loc)


def _bad_string(text: str) -> str:
    found = _UNSTORABLE.search(text)
    char = found.group() if found else ""
    what = "a NUL character" if char == "\x00" else "a lone surrogate (invalid Unicode)"
    return f"text contains {what}"


def renderable(value: Any, depth: int = 1) -> bool:
    """Whether a stored document can be rendered as JSON: not nested beyond MAX_RENDER_DEPTH and no
    lone surrogate (which UTF-8 cannot encode). Reads skip a row that is not, rather than fail."""
    if isinstance(value, dict):
        return depth <= MAX_RENDER_DEPTH and all(
            not (isinstance(key, str) and _SURROGATE.search(key)) and renderable(item, depth + 1)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return depth <= MAX_RENDER_DEPTH and all(renderable(item, depth + 1) for item in value)
    if isinstance(value, str):
        return _SURROGATE.search(value) is None
    return True


def is_clean_text(text: str) -> bool:
    """True when `text` holds neither NUL nor a lone surrogate."""
    return _UNSTORABLE.search(text) is None
