"""Signing and verifying (the module receivers copy), the retry policy, and webhook URLs: pure tables."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from talkative.webhooks import backoff, signing, targets

SECRET = "whsec_test"
BODY = b'{"id":1,"type":"RUN_COMPLETED"}'
NOW = 1_800_000_000


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signing.header(SECRET, NOW, BODY) == f"v1={expected}"


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "header", "now", "valid"),
    [
        (SECRET, str(NOW), BODY, signing.header(SECRET, NOW, BODY), NOW, True),
        (SECRET, str(NOW), BODY, "v0=abc " + signing.header(SECRET, NOW, BODY), NOW + 299, True),
        (SECRET, str(NOW), BODY + b" ", signing.header(SECRET, NOW, BODY), NOW, False),  # body tampered
        (SECRET, str(NOW + 1), BODY, signing.header(SECRET, NOW, BODY), NOW, False),  # timestamp changed
        ("whsec_other", str(NOW), BODY, signing.header(SECRET, NOW, BODY), NOW, False),  # wrong secret
        (SECRET, str(NOW), BODY, signing.header(SECRET, NOW, BODY)[:-1] + "0", NOW, False),  # signature
        (SECRET, str(NOW), BODY, signing.header(SECRET, NOW, BODY), NOW + 301, False),  # too old
        (SECRET, str(NOW), BODY, signing.header(SECRET, NOW, BODY), NOW - 301, False),  # from the future
        (SECRET, "soon", BODY, signing.header(SECRET, NOW, BODY), NOW, False),
        (SECRET, str(NOW), BODY, "", NOW, False),
    ],
)
def test_verify(secret: str, timestamp: str, body: bytes, header: str, now: int, valid: bool) -> None:
    assert signing.verify(secret, timestamp=timestamp, body=body, signature_header=header, now=now) is valid


def test_secrets_are_fresh_and_long() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second and first.startswith("whsec_") and len(first) >= 40


POLICY = backoff.RetryPolicy(base_s=5, cap_s=600, max_attempts=12, max_age_s=86400)


@pytest.mark.parametrize(
    ("attempts", "rand", "delay"),
    [(1, 0.0, 2.5), (1, 1.0, 5.0), (2, 0.0, 5.0), (3, 0.5, 15.0), (8, 1.0, 600.0), (30, 0.0, 300.0)],
)
def test_backoff_doubles_with_jitter_up_to_the_cap(attempts: int, rand: float, delay: float) -> None:
    assert backoff.delay_s(POLICY, attempts, lambda: rand) == pytest.approx(delay)


@pytest.mark.parametrize(
    ("attempts", "age_s", "gives_up"),
    [(1, 0, False), (11, 86399, False), (12, 10, True), (3, 86400, True)],
)
def test_a_delivery_is_given_up_after_its_attempts_or_its_age(
    attempts: int, age_s: float, gives_up: bool
) -> None:
    assert backoff.gives_up(POLICY, attempts=attempts, age_s=age_s) is gives_up


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("https://hooks.example.com/in", ("https", "hooks.example.com", 443, "/in")),
        ("http://hooks.example.com:8080/a?b=c", ("http", "hooks.example.com", 8080, "/a?b=c")),
        ("https://[2001:db8::1]/x", ("https", "2001:db8::1", 443, "/x")),
        ("https://Example.COM", ("https", "example.com", 443, "/")),
    ],
)
def test_webhook_urls(url: str, parts: tuple[str, str, int, str]) -> None:
    target = targets.parse(url)
    assert (target.scheme, target.host, target.port, target.path) == parts


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "https://user:pw@example.com/",
        "https:///nohost",
        "http://ex ample.com/",
    ],
)
def test_webhook_urls_refused(url: str) -> None:
    with pytest.raises(targets.TargetRefused):
        targets.parse(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/", "http://169.254.169.254/latest", "http://10.0.0.1/", "http://localhost/"]
)
async def test_private_targets_are_refused_unless_allowed(url: str) -> None:
    target = targets.parse(url)
    with pytest.raises(targets.TargetRefused, match="non-public"):
        await targets.resolve(target, [])
    assert await targets.resolve(target, [target.host, "127.0.0.1", "::1"])


@pytest.mark.parametrize(
    ("url", "address", "connect_to", "host_header"),
    [
        (
            "https://hooks.example.com/in?a=1",
            "93.184.216.34",
            "https://93.184.216.34:443/in?a=1",
            "hooks.example.com",
        ),
        (
            "http://hooks.example.com:8080/",
            "93.184.216.34",
            "http://93.184.216.34:8080/",
            "hooks.example.com:8080",
        ),
        ("https://hooks.example.com/", "2001:db8::1", "https://[2001:db8::1]:443/", "hooks.example.com"),
        ("http://[2001:db8::1]:81/x", "2001:db8::1", "http://[2001:db8::1]:81/x", "[2001:db8::1]:81"),
    ],
)
def test_a_delivery_connects_to_the_checked_address_under_its_name(
    url: str, address: str, connect_to: str, host_header: str
) -> None:
    target = targets.parse(url)
    assert target.url_at(ipaddress.ip_address(address)) == connect_to
    assert target.host_header == host_header
