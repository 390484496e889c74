"""The input gate through a real server (uvicorn over TCP), with its limit set by the environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.e2e
LIMIT = 64 * 1024
SERVER_ENV = {"TALKATIVE_MAX_BODY_BYTES": str(LIMIT)}
TOKEN = mint_token(secret=TEST_SECRET, sub="e2e", role=Role.OPERATOR, tenant_id="t1", ttl=timedelta(hours=1))
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def _action(blob_bytes: int) -> bytes:
    return json.dumps({"action": "note", "payload": {"blob": "x" * blob_bytes}}).encode()


def _chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_the_limit_comes_from_the_environment(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        refused = http.post("/channels/internal/actions", content=_action(LIMIT), headers=HEADERS)
        assert refused.status_code == 413, refused.text
        assert refused.json() == {
            "error": f"the request body is larger than the limit of {LIMIT} bytes",
            "code": "PAYLOAD_TOO_LARGE",
            "max_body_bytes": LIMIT,
        }
        accepted = http.post("/channels/internal/actions", content=_action(LIMIT // 2), headers=HEADERS)
        assert accepted.status_code == 201, accepted.text


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        request = http.build_request(
            "POST", "/channels/internal/actions", content=_chunks(_action(4 * LIMIT)), headers=HEADERS
        )
        assert request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in request.headers
        refused = http.send(request)
        assert refused.status_code == 413, refused.text
        assert refused.json()["code"] == "PAYLOAD_TOO_LARGE"
        listed = http.get("/channels/internal/actions", headers=HEADERS).json()["actions"]
        assert all(len(json.dumps(a["payload"])) < LIMIT for a in listed)


def test_nul_and_unsafe_json_are_422_over_the_wire(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/agents/%00", headers=HEADERS).status_code == 422
        for text in (
            '{"action": "a\\u0000"}',
            '{"action": "\\ud800"}',
            '{"action": "a", "payload": {"n": NaN}}',
        ):
            response = http.post("/channels/internal/actions", content=text, headers=HEADERS)
            assert response.status_code == 422, (text, response.text)
            assert response.json()["code"] == "VALIDATION_ERROR"
