from __future__ import annotations

from datetime import timedelta

import pytest

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
