"""Where a webhook may point: http(s) URLs whose host resolves to public addresses only.

The same rule as the skills' egress proxy (tools/egress.py): loopback, link-local (cloud
metadata), private, shared and reserved addresses are refused unless the operator named that host
or address (TALKATIVE_WEBHOOKS_ALLOW_PRIVATE). It is checked when a subscription is made (a clear
422) and again at every delivery, which then connects to the address it checked, so a DNS answer
that changes to a private one later cannot redirect the POST.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from talkative.tools.egress import EgressPolicy, EgressRefused, IpAddress, parse_destination, resolve_checked


class TargetRefused(Exception):
    """This URL may not receive webhooks; the message says why (and holds no secret)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query, as given

    def url_at(self, address: IpAddress) -> str:
        """The URL with its host replaced by the checked address (the Host header keeps the name)."""
        shown = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = {"http": 80, "https": 443}[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str) -> Target:
    """The parts of a webhook URL; raises TargetRefused for anything but a plain http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("the URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry a user name or password")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        host, port = parse_destination(_destination_of(parts.hostname, port))
    except ValueError as exc:
        raise TargetRefused(str(exc)) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path)


async def resolve(target: Target, allow_private: Iterable[str]) -> list[IpAddress]:
    """The addresses the target may be reached at; raises TargetRefused."""
    policy = EgressPolicy.build([_destination(target)], allow_private)
    try:
        found = await resolve_checked(policy, target.host, target.port)
    except EgressRefused as exc:
        raise TargetRefused(str(exc)) from None
    return [address for address, _ in found]


def _destination(target: Target) -> str:
    return _destination_of(target.host, target.port)


def _destination_of(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
