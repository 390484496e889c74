"""The auth matrix over HTTP: every way a token can be wrong is a 401; roles are enforced."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from tests.conftest import TEST_SECRET, TokenFactory


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": "mallory",
        "role": "admin",
        "tenant_id": "tenant-a",
        "exp": int(time.time()) + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(**overrides: object) -> str:
    return jwt.encode(_claims(**overrides), TEST_SECRET, algorithm="HS256")


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "bad signature": lambda: jwt.encode(_claims(), "x" * 40 + "another-key-entirely", algorithm="HS256"),
    "alg none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
    "alg HS512": lambda: jwt.encode(_claims(), TEST_SECRET, algorithm="HS512"),
    "expired": lambda: _signed(exp=int(time.time()) - 3600),
    "missing sub": lambda: _signed(sub=None),
    "missing role": lambda: _signed(role=None),
    "missing exp": lambda: _signed(exp=None),
    "unknown role": lambda: _signed(role="superuser"),
    "operator without tenant": lambda: _signed(role="operator", tenant_id=None),
    "garbage": lambda: "not-a-jwt",
}


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/agents")
    assert response.status_code == 401
    assert response.json()["code"] == "MISSING_TOKEN"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_tokens_are_401(client: httpx.AsyncClient, case: str) -> None:
    response = await client.get("/agents", headers={"Authorization": f"Bearer {BAD_TOKENS[case]()}"})
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) >= {"error", "code"} and body["error"]


async def test_expired_token_says_so(client: httpx.AsyncClient) -> None:
    token = _signed(exp=int(time.time()) - 3600)
    response = await client.get("/agents", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["code"] == "TOKEN_EXPIRED"


async def test_query_token_not_accepted_outside_sse(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    response = await client.get("/agents", params={"access_token": make_token("admin", None)})
    assert response.status_code == 401


async def test_viewer_cannot_write(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
    response = await client.post("/agents", json={"name": "Nope"}, headers=auth("viewer"))
    assert response.status_code == 403
    assert response.json()["code"] == "ROLE_FORBIDDEN"
    listing = await client.get("/agents", headers=auth("viewer"))
    assert listing.status_code == 200 and listing.json()["agents"] == []


@pytest.mark.parametrize("role", ["operator", "admin"])
async def test_operator_and_admin_can_write(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], role: str
) -> None:
    response = await client.post("/agents", json={"name": f"By {role}"}, headers=auth(role))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("role,tenant", [("viewer", "tenant-a"), ("operator", "tenant-a"), ("admin", None)])
async def test_me_reports_the_token(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], role: str, tenant: str | None
) -> None:
    body = (await client.get("/auth/me", headers=auth(role, tenant, sub="ana"))).json()
    assert body == {"sub": "ana", "role": role, "tenant_id": tenant, "platform_admin": tenant is None}
