from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from talkative.auth import tokens
from talkative.auth.principal import Role
from talkative.auth.tokens import InvalidToken, decode_token, mint_token

SECRET = "k3y-for-unit-tests-0123456789-ABCDEFGHIJ"


def test_round_trip() -> None:
    token = mint_token(secret=SECRET, sub="ana", role=Role.OPERATOR, tenant_id="t1", ttl=timedelta(minutes=5))
    principal = decode_token(secret=SECRET, token=token)
    assert (principal.sub, principal.role, principal.tenant_id) == ("ana", Role.OPERATOR, "t1")
    assert not principal.is_platform_admin


def test_platform_admin_has_no_tenant() -> None:
    token = mint_token(secret=SECRET, sub="root", role=Role.ADMIN, tenant_id=None, ttl=timedelta(minutes=5))
    principal = decode_token(secret=SECRET, token=token)
    assert principal.is_platform_admin and principal.tenant_filter is None


def test_non_admin_needs_a_tenant() -> None:
    with pytest.raises(ValueError, match="tenant"):
        mint_token(secret=SECRET, sub="x", role=Role.VIEWER, tenant_id=None, ttl=timedelta(minutes=5))


def test_oversized_token_refused() -> None:
    with pytest.raises(InvalidToken, match="too long"):
        decode_token(secret=SECRET, token="a" * 10_000)


class _CountingDecode:
    def __init__(self) -> None:
        self.calls = 0
        self._decode = jwt.decode

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._decode(*args, **kwargs)


def test_a_verified_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _CountingDecode()
    monkeypatch.setattr(jwt, "decode", counting)
    # A sub of its own: a token minted by another test in the same second would be the same string.
    token = mint_token(
        secret=SECRET, sub="ana-cached", role=Role.OPERATOR, tenant_id="t1", ttl=timedelta(minutes=5)
    )
    first = decode_token(secret=SECRET, token=token)
    assert decode_token(secret=SECRET, token=token) == first
    assert counting.calls == 1


def test_a_remembered_token_is_checked_again_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = _CountingDecode()
    monkeypatch.setattr(jwt, "decode", counting)
    token = mint_token(
        secret=SECRET, sub="bo-expiring", role=Role.VIEWER, tenant_id="t1", ttl=timedelta(minutes=5)
    )
    decode_token(secret=SECRET, token=token)
    later = time.time() + 5 * 60 + tokens.LEEWAY_S + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the clock the module reads
    decode_token(secret=SECRET, token=token)  # PyJWT's own clock still accepts it
    assert counting.calls == 2


def test_a_token_remembered_under_one_secret_fails_under_another() -> None:
    token = mint_token(secret=SECRET, sub="cy", role=Role.VIEWER, tenant_id="t1", ttl=timedelta(minutes=5))
    decode_token(secret=SECRET, token=token)
    with pytest.raises(InvalidToken, match="invalid token"):
        decode_token(secret=SECRET + "-rotated", token=token)


def _forged(exp: object, sub: str) -> str:
    """A correctly signed token whose claims the minting code would never write."""
    claims = {"sub": sub, "role": "operator", "tenant_id": "t1", "iss": tokens.ISSUER, "exp": exp}
    return jwt.encode(claims, SECRET, algorithm=tokens.ALGORITHM)


@pytest.mark.parametrize(
    "exp",
    [str(int(time.time()) + 3600), f"{time.time() + 3600}", True, [int(time.time()) + 3600], None, {"at": 1}],
    ids=["digit string", "decimal string", "bool", "list", "null", "object"],
)
def test_an_exp_that_is_not_a_number_is_refused(exp: object) -> None:
    token = _forged(exp, f"exp-{type(exp).__name__}")
    for _ in range(2):  # and not remembered as verified: the second try is refused the same way
        with pytest.raises(InvalidToken) as refused:
            decode_token(secret=SECRET, token=token)
        assert refused.value.status == 401


def test_an_approval_link_token_carries_its_scope() -> None:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    token = tokens.mint_approval_token(
        secret=SECRET, sub="olga", role=Role.OPERATOR, tenant_id="t1", approval_id="apr_1", expires_at=expires
    )
    principal = decode_token(secret=SECRET, token=token)
    assert (principal.sub, principal.tenant_id, principal.scope) == ("olga", "t1", "approval:apr_1")
    plain = mint_token(secret=SECRET, sub="ana", role=Role.OPERATOR, tenant_id="t1", ttl=timedelta(minutes=5))
    assert decode_token(secret=SECRET, token=plain).scope is None


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "everything", "tenant_id": "t1"},  # not a scope this server issues
        {"scope": ["approval:apr_1"], "tenant_id": "t1"},
        {"scope": "approval:" + "x" * 200, "tenant_id": "t1"},
        {"scope": "approval:apr_1", "role": "admin"},  # a scoped token without a tenant
    ],
)
def test_a_scope_this_server_does_not_issue_is_refused(claims: dict[str, Any]) -> None:
    base: dict[str, Any] = {"sub": "x", "role": "operator", "exp": int(time.time()) + 300}
    token = jwt.encode({**base, **claims}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        decode_token(secret=SECRET, token=token)
