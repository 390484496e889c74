"""The egress proxy against a real local HTTP server, through the in-sandbox relay as a skill sees it."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest

from talkative.tools import relay
from talkative.tools.egress import EgressPolicy, EgressProxy, is_public, parse_destination
from tests.http_origin import serve_origin


@pytest.fixture
def origin() -> Iterator[int]:
    """A real HTTP server on loopback: the 'allowed host' of these tests."""
    with serve_origin(lambda path: f"hello from {path}".encode()) as port:
        yield port


@contextlib.asynccontextmanager
async def _proxy(policy: EgressPolicy) -> AsyncIterator[tuple[EgressProxy, int]]:
    """The proxy on its Unix socket, and a relay in front of it on a TCP port (as inside a run)."""
    proxy = EgressProxy(policy, label="test")
    path = await proxy.start()
    listener = relay.listen()
    stop = threading.Event()
    thread = threading.Thread(target=relay.serve, args=(listener, str(path), lambda: not stop.is_set()))
    thread.daemon = True
    thread.start()
    try:
        yield proxy, listener.getsockname()[1]
    finally:
        stop.set()
        with socket.create_connection(listener.getsockname()):  # wakes accept() to see `stop`
            pass
        thread.join(5)
        listener.close()
        await proxy.close()


def _get(relay_port: int, url: str) -> tuple[int, str]:
    """What a skill's `urllib` does with HTTP(S)_PROXY pointing at the relay."""
    proxy = relay.proxy_env(relay_port)["HTTP_PROXY"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _raw(relay_port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", relay_port), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(4096)


def _connect_tunnel(relay_port: int, target: str) -> bytes:
    """A CONNECT through the relay, then plain HTTP inside the tunnel (what an HTTPS client does)."""
    with socket.create_connection(("127.0.0.1", relay_port), timeout=10) as conn:
        conn.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return head
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            return head
        conn.sendall(b"GET /tunnelled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
        return head + reply


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("api.example.com:443", ("api.example.com", 443)),
        ("API.Example.COM.:8080", ("api.example.com", 8080)),
        ("[2001:db8::1]:443", ("2001:db8::1", 443)),
        ("192.0.2.7:80", ("192.0.2.7", 80)),
    ],
)
def test_destinations_parse(value: str, expected: tuple[str, int]) -> None:
    assert parse_destination(value) == expected


@pytest.mark.parametrize(
    "value", ["example.com", "example.com:0", "example.com:70000", "ex ample.com:80", ":80", "a/b:80"]
)
def test_bad_destinations_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_destination(value)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # a v4-mapped loopback is still loopback
    ],
)
def test_only_public_unicast_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_allowed_host_is_reached_over_http_and_connect(origin: int) -> None:
    policy = EgressPolicy.build([f"127.0.0.1:{origin}"], private_allowed=["127.0.0.1"])
    async with _proxy(policy) as (proxy, port):
        status, body = await asyncio.to_thread(_get, port, f"http://127.0.0.1:{origin}/report")
        assert (status, body) == (200, "hello from /report")
        reply = await asyncio.to_thread(_connect_tunnel, port, f"127.0.0.1:{origin}")
        assert reply.startswith(b"HTTP/1.1 200 Connection established")
        assert reply.endswith(b"hello from /tunnelled")
        assert proxy.refused == []


async def test_loopback_is_refused_unless_the_operator_named_it(origin: int) -> None:
    policy = EgressPolicy.build([f"127.0.0.1:{origin}", f"localhost:{origin}"])
    async with _proxy(policy) as (proxy, port):
        status, body = await asyncio.to_thread(_get, port, f"http://127.0.0.1:{origin}/")
        assert status == 403 and "non-public" in body
        status, body = await asyncio.to_thread(_get, port, f"http://localhost:{origin}/")
        assert status == 403 and "non-public" in body
        reply = await asyncio.to_thread(_connect_tunnel, port, f"127.0.0.1:{origin}")
        assert reply.startswith(b"HTTP/1.1 403")
        assert len(proxy.refused) == 3


async def test_undeclared_host_or_port_is_refused(origin: int) -> None:
    policy = EgressPolicy.build([f"127.0.0.1:{origin}"], private_allowed=["127.0.0.1"])
    async with _proxy(policy) as (proxy, port):
        status, body = await asyncio.to_thread(_get, port, f"http://127.0.0.1:{origin + 1}/")
        assert status == 403 and "not among" in body
        status, _ = await asyncio.to_thread(_get, port, f"http://localhost:{origin}/")
        assert status == 403  # the name was not declared, even though it resolves to an allowed address
        reply = await asyncio.to_thread(_connect_tunnel, port, "169.254.169.254:80")
        assert reply.startswith(b"HTTP/1.1 403")
        assert len(proxy.refused) == 3


async def test_metadata_address_is_refused_even_when_declared() -> None:
    policy = EgressPolicy.build(["169.254.169.254:80"])
    async with _proxy(policy) as (proxy, port):
        reply = await asyncio.to_thread(_connect_tunnel, port, "169.254.169.254:80")
        assert reply.startswith(b"HTTP/1.1 403")
        assert "non-public" in proxy.refused[0]


async def test_garbage_is_a_400_and_the_proxy_keeps_serving(origin: int) -> None:
    policy = EgressPolicy.build([f"127.0.0.1:{origin}"], private_allowed=["127.0.0.1"])
    async with _proxy(policy) as (_, port):
        assert (await asyncio.to_thread(_raw, port, b"NONSENSE\r\n\r\n")).startswith(b"HTTP/1.1 400")
        status, _ = await asyncio.to_thread(_get, port, f"http://127.0.0.1:{origin}/again")
        assert status == 200


async def test_closing_removes_the_socket(origin: int) -> None:
    proxy = EgressProxy(EgressPolicy.build([f"127.0.0.1:{origin}"]))
    path = await proxy.start()
    assert path.exists()
    await proxy.close()
    assert not path.exists() and not path.parent.exists()
