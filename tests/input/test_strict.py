"""The strict JSON parser and the render check, by table."""

from __future__ import annotations

from typing import Any

import pytest

from talkative.input import strict


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"a": "x\\u0000"}', ("a",)),
        (b'{"a": ["ok", "\\udc00"]}', ("a", 1)),
        (b'{"\\ud800": 1}', ("\ud800",)),
        (b'{"a": NaN}', ()),
        (b'{"a": -Infinity}', ()),
        (b'{"a": 1e400}', ()),
        (b'{"a": 9223372036854775808}', ()),
        (b'{"a": -9223372036854775809}', ()),
        (b'{"a": ' + b"9" * 5000 + b"}", ()),
        (b'"\xed\xa0\x80"', ()),  # a surrogate encoded as bytes (CESU-8), not valid UTF-8
        (b"[" * 65 + b"]" * 65, (0,) * 64),
        (b"[" * 100_000 + b"]" * 100_000, ()),
    ],
)
def test_refused(body: bytes, loc: tuple[object, ...]) -> None:
    with pytest.raises(strict.UnsafeJson) as refused:
        strict.loads(body)
    assert refused.value.loc == loc


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"a": "caf\\u00e9 \\ud83d\\ude00"}', {"a": "café 😀"}),  # a surrogate *pair* is one character
        (b'{"a": 9223372036854775807, "b": -1.5e308}', {"a": 2**63 - 1, "b": -1.5e308}),
        (b"[" * 64 + b"]" * 64, None),  # exactly the limit
        (b'{"a": "' + b"[" * 80 + b'"}', {"a": "[" * 80}),  # brackets in a string are not nesting
    ],
)
def test_accepted(body: bytes, value: object) -> None:
    parsed = strict.loads(body)
    if value is not None:
        assert parsed == value


def test_check_bounds_a_payload_built_in_code() -> None:
    strict.check(_nested(32), max_depth=32)
    with pytest.raises(strict.UnsafeJson, match="deeper than 32"):
        strict.check(_nested(33), max_depth=32)
    with pytest.raises(strict.UnsafeJson, match="NaN"):
        strict.check({"a": [float("nan")]}, max_depth=32)
    with pytest.raises(strict.UnsafeJson, match="64-bit"):
        strict.check({"a": 2**64}, max_depth=32)


def test_renderable() -> None:
    assert strict.renderable({"a": ["x\x00", 1.5, None, _nested(100)]})  # NUL renders as \u0000
    assert not strict.renderable(_nested(300))
    assert not strict.renderable({"a": ["\ud800"]})
    assert not strict.renderable({"\udfff": 1})
