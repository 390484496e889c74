"""The checks every SSH coordinate passes before it can reach `ssh` or a remote shell."""

from __future__ import annotations

import pytest

from talkative.fleet.validation import check_base_path, check_host, check_user

GOOD_HOSTS = [
    "example.com",
    "node-1.internal",
    "10.0.0.5",
    "127.0.0.1",
    "::1",
    "2001:db8::7",
    "localhost",
    "a",
]
BAD_HOSTS = [
    "",
    "-oProxyCommand=x",
    "-p22",
    "a b",
    "host;rm",
    "host|cat",
    "host&",
    "user@host",
    "$(id)",
    "`id`",
    "host\nx",
    "host\x00",
    "h'ost",
    'h"ost',
    "host:22",
    "[::1]",
    "fe80::1%eth0",
    "-host",
    "host-",
    "a..b",
    ".host",
    "010.0.0.1",
    "127.1",
    "999.1.1.1",
    "x" * 254,
    "a." * 127 + "a",
    "ex_ample.com",
    "hôst",
]
GOOD_USERS = ["root", "deploy", "_svc", "ana.b", "web-1", "A" * 32]
BAD_USERS = [
    "",
    "-oProxyCommand=x",
    "-l",
    "a b",
    "root;id",
    "user@host",
    "$(id)",
    "1user",
    "a" * 33,
    "ro\not",
    "é",
]
GOOD_PATHS = ["/srv/agents", "/home/deploy/talkative-agents", "/opt/a_b/c.d", "/srv/agents/"]
BAD_PATHS = [
    "",
    "/",
    "srv/agents",
    "./agents",
    "/srv/../etc",
    "/srv/./x",
    "/..",
    "/srv/a b",
    "/srv/$(id)",
    "/srv/`id`",
    "/srv/a;rm",
    "/srv/a\nb",
    "/srv/a\x00b",
    "/srv/'x'",
    "~/agents",
    "/srv/*",
    "/" + "a" * 512,
]


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_good_hosts(host: str) -> None:
    assert check_host(host) == host


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_bad_hosts(host: str) -> None:
    with pytest.raises(ValueError):
        check_host(host)


@pytest.mark.parametrize("user", GOOD_USERS)
def test_good_users(user: str) -> None:
    assert check_user(user) == user


@pytest.mark.parametrize("user", BAD_USERS)
def test_bad_users(user: str) -> None:
    with pytest.raises(ValueError):
        check_user(user)


@pytest.mark.parametrize("path", GOOD_PATHS)
def test_good_base_paths(path: str) -> None:
    assert check_base_path(path) == path


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_base_paths(path: str) -> None:
    with pytest.raises(ValueError):
        check_base_path(path)
