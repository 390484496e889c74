"""Property: whatever JSON a writing endpoint is sent (random nesting, NUL and surrogates in strings
and keys, NaN and infinities, huge integers), the answer is never a 5xx, on either database."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Auth = Callable[..., dict[str, str]]

NASTY_TEXT = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\U0001f600", "", "clerk"])
TEXT = st.one_of(NASTY_TEXT, st.text(st.characters(exclude_categories=()), max_size=12))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=12,
)


def _nested(levels: int) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for _ in range(levels - 1):
        payload = {"a": payload}
    return payload


PAYLOADS = st.one_of(
    st.dictionaries(TEXT, VALUES, max_size=4), st.integers(min_value=1, max_value=400).map(_nested)
)


@st.composite
def requests(draw: st.DrawFn, run_id: str) -> tuple[str, dict[str, Any]]:
    writes: list[tuple[str, dict[str, Any]]] = [
        ("/orchestrator/events", {"agent_id": "clerk", "run_id": run_id, "type": "metric_recorded"}),
        ("/orchestrator/commands", {"agent_id": "clerk", "type": "start_task"}),
        ("/channels/internal/actions", {"agent_id": "clerk", "action": "note"}),
        ("/prompts/activate", {"agent_id": "clerk", "version": 1}),
        ("/agents", {"id": "clerk-2", "name": "Clerk"}),
    ]
    path, body = draw(st.sampled_from(writes))
    body = {**body, "payload": draw(PAYLOADS)} if path != "/agents" and path != "/prompts/activate" else body
    for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=2, unique=True)):
        body[key] = draw(VALUES)  # a field (an id, the version, the payload) replaced by anything
    return path, body


async def test_writers_never_answer_5xx(client: httpx.AsyncClient, auth: Auth, clerk: str) -> None:
    # Hypothesis draws the requests (its runner is synchronous); they are then sent on the test's
    # own event loop. No shrinking, so a failure names the whole body.
    drawn: list[tuple[str, dict[str, Any]]] = []

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(request=requests(clerk))
    def draw(request: tuple[str, dict[str, Any]]) -> None:
        drawn.append(request)

    draw()
    headers = {**auth(), "Content-Type": "application/json"}
    failures = []
    for path, body in drawn:
        # ensure_ascii: lone surrogates travel as `\\ud800` escapes, as a hostile client sends them.
        text = json.dumps(body, ensure_ascii=True, allow_nan=True)
        response = await client.post(path, content=text, headers=headers)
        if response.status_code >= 500:
            failures.append((path, text[:300], response.text[:300]))
    assert not failures, failures
