"""The SMTP server down: the mail waits in the delivery log, retried with backoff, and goes out
once the server is up (one mail, its Message-ID the same as every attempt's); without a public URL
nothing is sent and the log says why."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from talkative.main import create_app
from talkative.settings import Settings
from tests.approval_mail.conftest import SMTP_LOGIN, mail_settings
from tests.approval_mail.smtp import Mailbox, link_of, smtp_server
from tests.approval_mail.test_mail import add_recipient, manual_approval, settled
from tests.conftest import serving
from tests.factories import Json
from tests.factories.agents import running_agent
from tests.waiting import eventually

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield Mailbox()  # not serving yet: the test starts it


@pytest.fixture
def settings(tmp_path: Path, database_url: str, mailbox: Mailbox) -> Settings:
    return mail_settings(tmp_path, database_url, mailbox.port)


async def test_mail_is_retried_until_the_smtp_server_is_up(
    client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="talkative")
    admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    recipient = await add_recipient(client, auth("operator", "tenant-a", "olga"), "olga@example.com")
    approval_id = await manual_approval(client, operator, "refund order 42")

    async def failing_twice() -> Json | None:
        answer = await client.get(f"/approval-recipients/{recipient['id']}/deliveries", headers=admin)
        rows: list[Json] = answer.json()["deliveries"]
        return rows[0] if rows and rows[0]["attempts"] >= 2 else None

    waiting = await eventually(failing_twice, what="the mail was never tried twice")
    assert waiting["status"] == "pending" and waiting["next_attempt_at"]
    assert waiting["last_error"] == "could not connect to the SMTP server (connection refused)"
    assert "next attempt in" in caplog.text

    with smtp_server(mailbox, login=SMTP_LOGIN):
        [message] = await eventually(
            lambda: mailbox.received() or None, what="no mail once the server was up"
        )
        [delivery] = await settled(client, admin, recipient["id"])
    assert link_of(message)[1] == approval_id
    assert delivery["status"] == "delivered" and delivery["attempts"] >= 3
    assert (
        message["Message-ID"]
        == f"<{delivery['delivery_id']}@talkative>"
        == f"<{waiting['delivery_id']}@talkative>"
    )
    assert SMTP_LOGIN[1] not in caplog.text
    metrics = (await client.get("/metrics")).text
    assert 'talkative_approval_mails_total{outcome="retry"}' in metrics
    assert 'talkative_approval_mails_total{outcome="delivered"}' in metrics


async def test_without_a_public_url_the_log_says_no_mail_is_sent(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="talkative")
    settings = mail_settings(tmp_path, database_url, 2525).model_copy(update={"public_url": None})
    async with serving(create_app(settings)):
        await eventually(lambda: "approval emails are NOT sent" in caplog.text or None, what="no log line")
    [line] = [r for r in caplog.records if "approval emails are NOT sent" in r.getMessage()]
    assert line.levelno == logging.ERROR


async def test_starttls_required_is_never_skipped(
    tmp_path: Path, database_url: str, auth: Auth, mailbox: Mailbox
) -> None:
    """With STARTTLS on (the default) and a server that does not offer it, nothing is sent in the
    clear: every attempt fails, and the delivery log says so."""
    settings = mail_settings(tmp_path, database_url, mailbox.port, TALKATIVE_SMTP_STARTTLS="true")
    with smtp_server(mailbox, login=SMTP_LOGIN):
        async with serving(create_app(settings)) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://talkative.test") as client:
                admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
                await running_agent(client, operator, "helper")
                recipient = await add_recipient(
                    client, auth("operator", "tenant-a", "olga"), "olga@example.com"
                )
                await manual_approval(client, operator, "refund order 42")

                async def failed_twice() -> Json | None:
                    answer = await client.get(
                        f"/approval-recipients/{recipient['id']}/deliveries", headers=admin
                    )
                    rows: list[Json] = answer.json()["deliveries"]
                    return rows[0] if rows and rows[0]["attempts"] >= 2 else None

                delivery = await eventually(failed_twice, what="the mail was never tried twice")
    assert delivery["status"] == "pending" and "SMTPNotSupportedError" in delivery["last_error"]
    assert mailbox.received() == [] and mailbox.logins == []
