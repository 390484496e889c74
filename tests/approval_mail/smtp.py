"""A real SMTP server on loopback for the approval mail tests (aiosmtpd): records every message,
optionally offers (and checks) a login."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.e2e.server import free_port

LINK = re.compile(r"(https?://\S+/approvals/(\S+?)#token=(\S+))")


@dataclass
class Mailbox:
    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received() if m["To"] == address]

    # aiosmtpd's handler hook
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def link_of(message: EmailMessage) -> tuple[str, str, str]:
    """The one-click link in a mail: (the link, the approval id, the token)."""
    found = LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1), found.group(2), found.group(3)


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox, login: tuple[str, str] | None = None) -> Iterator[Mailbox]:
    """Serves `mailbox` on its port until the block ends; with `login`, AUTH is offered and checked."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and login is not None
        if ok:
            given = (data.login.decode(), data.password.decode())
            with mailbox.lock:
                mailbox.logins.append(given)
            ok = given == login
        return AuthResult(success=ok, handled=False)

    options: dict[str, Any] = {}
    if login is not None:
        options = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
