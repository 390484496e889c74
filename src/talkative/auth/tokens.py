"""Minting and verifying HS256 JWTs; every other algorithm, `none` included, is refused."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import jwt

from talkative.auth.principal import Principal, Role
from talkative.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "talkative"
REQUIRED_CLAIMS = ("sub", "role", "exp")
MAX_TOKEN_BYTES = 8192
LEEWAY_S = 30
VERIFIED_CACHE_SIZE = 1024
SCOPE_CLAIM = "scope"
APPROVAL_SCOPE = "approval:"  # + the approval's id: a link token good for that approval only
MAX_SCOPE = 128


class InvalidToken(Unauthorized):
    code = "INVALID_TOKEN"


def mint_token(*, secret: str, sub: str, role: Role, tenant_id: str | None, ttl: timedelta) -> str:
    if role is not Role.ADMIN and not tenant_id:
        raise ValueError("only an admin token may omit tenant_id")
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": sub,
        "role": role.value,
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if tenant_id:
        claims["tenant_id"] = tenant_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def approval_scope(approval_id: str) -> str:
    return APPROVAL_SCOPE + approval_id


def mint_approval_token(
    *, secret: str, sub: str, role: Role, tenant_id: str, approval_id: str, expires_at: datetime
) -> str:
    """A short-lived token that may read and decide one approval and do nothing else (the emailed
    one-click link carries it; auth/dependencies.py refuses it on every other route)."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": sub,
        "role": role.value,
        "tenant_id": tenant_id,
        SCOPE_CLAIM: approval_scope(approval_id),
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class _Verified:
    """Tokens already verified, with their expiry: a signature check and claim parsing cost more
    than the rest of a small request. A hit is only trusted while the token has not expired (with
    the same leeway), keyed by the secret too, so nothing outlives what a full decode would allow."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], tuple[Principal, float]] = OrderedDict()

    def get(self, secret: str, token: str) -> Principal | None:
        entry = self._entries.get((secret, token))
        if entry is None:
            return None
        principal, expires = entry
        if time.time() > expires + LEEWAY_S:
            del self._entries[(secret, token)]
            return None
        self._entries.move_to_end((secret, token))
        return principal

    def put(self, secret: str, token: str, principal: Principal, expires: float) -> None:
        self._entries[(secret, token)] = (principal, expires)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


_verified = _Verified(VERIFIED_CACHE_SIZE)


def decode_token(*, secret: str, token: str) -> Principal:
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("token too long")
    cached = _verified.get(secret, token)
    if cached is not None:
        return cached
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"malformed token: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"token algorithm {header.get('alg')!r} is not accepted; use HS256")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS)},
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired", code="TOKEN_EXPIRED") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"token is missing the '{exc.claim}' claim") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    principal = _principal(claims)
    _verified.put(secret, token, principal, _expiry(claims))
    return principal


def _expiry(claims: dict[str, object]) -> float:
    """`exp` as a number of seconds. PyJWT checks `int(exp)`, so it lets "9999999999" through as a
    string; a token is only as good as its claims, so anything but a finite number is refused."""
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise InvalidToken("token 'exp' must be a number (seconds since the epoch)")
    return float(exp)


def _principal(claims: dict[str, object]) -> Principal:
    sub, role, tenant = claims.get("sub"), claims.get("role"), claims.get("tenant_id")
    if not isinstance(sub, str) or not sub.strip():
        raise InvalidToken("token 'sub' must be a non-empty string")
    try:
        parsed_role = Role(role) if isinstance(role, str) else None
    except ValueError:
        parsed_role = None
    if parsed_role is None:
        raise InvalidToken(f"unknown role {role!r}; expected admin, operator or viewer")
    if tenant is not None and (not isinstance(tenant, str) or not tenant.strip()):
        raise InvalidToken("token 'tenant_id' must be a non-empty string")
    if parsed_role is not Role.ADMIN and tenant is None:
        raise InvalidToken("token is missing the 'tenant_id' claim")
    scope = claims.get(SCOPE_CLAIM)
    if scope is not None and (
        not isinstance(scope, str) or not scope.startswith(APPROVAL_SCOPE) or len(scope) > MAX_SCOPE
    ):
        raise InvalidToken("token 'scope' is not one this server issues")
    if scope is not None and tenant is None:
        raise InvalidToken("a scoped token must name its tenant")
    return Principal(sub=sub, role=parsed_role, tenant_id=tenant, scope=scope)
