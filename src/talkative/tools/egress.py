"""The egress proxy: the only way out of a skill's sandbox, and only to the hosts it may reach.

A skill run has its own network namespace with nothing but its own loopback (see confine.py). A
skill that declares hosts in its SKILL.md (`network:`) and whose agent an admin allowed them gets a
proxy: one Unix socket per run, served here in the server, bind-mounted into the run where a small
relay (relay.py) exposes it as `HTTP(S)_PROXY=http://127.0.0.1:<port>`. The socket is the run's
capability: its allow-list is fixed when the run starts.

Each request is `CONNECT host:port` (HTTPS, any TLS client) or an absolute-URI HTTP request. It is
allowed only when (host, port) was declared and allowed, and then only to the addresses that name
resolves to *here*, each checked: loopback, link-local (cloud metadata), private, shared, multicast
and reserved ranges are refused unless the operator named that host or address in
`TALKATIVE_EGRESS_ALLOW_PRIVATE`. The proxy connects to the address it checked, never resolves
twice, so DNS rebinding cannot swap a public answer for a private one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 16  # open at once, per run
SOCKET_NAME = "egress.sock"
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(Exception):
    """The proxy will not open this connection; the message is shown to the skill."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        super().__init__(reason)


def parse_destination(value: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as declared by a skill -> (normalised host, port)."""
    text = value.strip().lower()
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
    else:
        host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"{value!r} must be host:port")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r}: port out of range")
    host = host.rstrip(".")
    if not _is_ip(host) and not _HOST.fullmatch(host):
        raise ValueError(f"{value!r}: not a host name or address")
    return host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast: what a skill may reach without the operator naming it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class EgressPolicy:
    """What one run may reach: declared-and-allowed (host, port) pairs, and the operator's exceptions
    to the public-address rule (host names or addresses, from the settings)."""

    destinations: frozenset[tuple[str, int]]
    private_allowed: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, destinations: Iterable[str], private_allowed: Iterable[str] = ()) -> EgressPolicy:
        return cls(
            frozenset(parse_destination(item) for item in destinations),
            frozenset(item.strip().lower().rstrip(".") for item in private_allowed if item.strip()),
        )

    def permits(self, host: str, port: int) -> bool:
        return (host, port) in self.destinations

    def address_allowed(self, host: str, address: IpAddress) -> bool:
        if is_public(address):
            return True
        return host in self.private_allowed or str(address) in self.private_allowed


async def resolve_checked(policy: EgressPolicy, host: str, port: int) -> list[tuple[IpAddress, int]]:
    """The addresses to try for an allowed (host, port); raises EgressRefused."""
    host = host.lower().rstrip(".")
    if not policy.permits(host, port):
        raise EgressRefused(403, f"{host}:{port} is not among this skill's allowed destinations")
    if _is_ip(host):
        candidates = [ipaddress.ip_address(host)]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            raise EgressRefused(502, f"cannot resolve {host}: {exc}") from None
        candidates = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    allowed = [address for address in candidates if policy.address_allowed(host, address)]
    if not allowed:
        shown = ", ".join(str(address) for address in candidates)
        raise EgressRefused(403, f"{host} resolves to a non-public address ({shown}); refused")
    return [(address, port) for address in allowed]


@dataclass(frozen=True)
class _Request:
    host: str
    port: int
    tunnel: bool  # CONNECT: reply 200 and relay bytes; else forward `head` rewritten
    head: bytes


def parse_request(head: bytes) -> _Request:
    """A proxy request's head (up to and including the blank line)."""
    try:
        text = head.decode("latin-1")
        request_line, _, rest = text.partition("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        raise EgressRefused(400, "malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise EgressRefused(400, "only HTTP/1.x proxy requests are served")
    if method == "CONNECT":
        try:
            host, port = parse_destination(target)
        except ValueError as exc:
            raise EgressRefused(400, str(exc)) from None
        return _Request(host, port, True, b"")
    match = re.fullmatch(r"http://([^/?#]+)([^ ]*)", target, flags=re.IGNORECASE)
    if match is None:
        raise EgressRefused(400, "a proxied request needs an absolute http:// URL (use CONNECT for https)")
    authority, path = match.group(1), match.group(2) or "/"
    try:
        host, port = parse_destination(authority if re.search(r":\d+$", authority) else f"{authority}:80")
    except ValueError as exc:
        raise EgressRefused(400, str(exc)) from None
    headers = [
        line for line in rest.split("\r\n")
        if line and not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
    ]  # fmt: skip
    forwarded = "\r\n".join([f"{method} {path} {version}", *headers, "Connection: close", "", ""])
    return _Request(host, port, False, forwarded.encode("latin-1"))


class EgressProxy:
    """One run's proxy on its own Unix socket; `close()` ends it and every connection it opened."""

    def __init__(self, policy: EgressPolicy, *, label: str = "") -> None:
        self.policy = policy
        self.label = label
        self.refused: list[str] = []  # what the run tried and was denied, for its result
        self._dir: str | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    @property
    def socket_dir(self) -> Path:
        assert self._dir is not None, "start() first"
        return Path(self._dir)

    @property
    def socket_path(self) -> Path:
        return self.socket_dir / SOCKET_NAME

    async def start(self, *, owner_uid: int | None = None) -> Path:
        """Listen on a fresh socket in a private directory; returns the socket's path."""
        self._dir = tempfile.mkdtemp(prefix="talkative-egress-")
        path = str(self.socket_path)
        self._server = await asyncio.start_unix_server(self._serve, path=path)
        if owner_uid is not None:  # the sandbox's uid must be able to connect
            os.chown(self._dir, owner_uid, -1)
            os.chown(path, owner_uid, -1)
        os.chmod(path, 0o600)
        return self.socket_path

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._dir is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.socket_path)
            with contextlib.suppress(OSError):
                os.rmdir(self._dir)
            self._dir = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._slots.locked():
                await _refuse(writer, EgressRefused(429, "too many open connections"))
                return
            async with self._slots:
                await self._handle(reader, writer)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(HEAD_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            return
        try:
            request = parse_request(head)
            addresses = await resolve_checked(self.policy, request.host, request.port)
            upstream = await _connect(addresses)
        except EgressRefused as refusal:
            self.refused.append(str(refusal))
            log.warning("egress refused for %s: %s", self.label or "a run", refusal)
            await _refuse(writer, refusal)
            return
        up_reader, up_writer = upstream
        try:
            if request.tunnel:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(request.head)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _connect(
    addresses: list[tuple[IpAddress, int]],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    last: OSError | None = None
    for address, port in addresses:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                return await asyncio.open_connection(str(address), port)
        except (OSError, TimeoutError) as exc:
            last = exc if isinstance(exc, OSError) else OSError("connect timed out")
    raise EgressRefused(502, f"cannot connect: {last}")


async def _refuse(writer: asyncio.StreamWriter, refusal: EgressRefused) -> None:
    body = f"talkative egress proxy: {refusal}\n".encode()
    reason = {400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests"}.get(
        refusal.status, "Bad Gateway"
    )
    writer.write(
        f"HTTP/1.1 {refusal.status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(OSError):
        await writer.drain()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(64 * 1024):
            sink.write(chunk)
            await sink.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            if sink.can_write_eof():
                sink.write_eof()
