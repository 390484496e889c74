"""The approval mail tests' server: the app mails through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from talkative.settings import Settings
from tests.approval_mail.smtp import Mailbox, smtp_server
from tests.conftest import TEST_SECRET

PUBLIC_URL = "https://talkative.example.com"
SMTP_LOGIN = ("talkative-mailer", "smtp-pass-Xq7vR2mK9wL4")


def mail_settings(tmp_path: Path, database_url: str, port: int, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        TALKATIVE_DATA_DIR=tmp_path / "data",
        TALKATIVE_DATABASE_URL=database_url,
        AUTH_JWT_SECRET=TEST_SECRET,
        TALKATIVE_SMTP_HOST="127.0.0.1",
        TALKATIVE_SMTP_PORT=str(port),
        TALKATIVE_SMTP_STARTTLS="false",
        TALKATIVE_SMTP_USERNAME=SMTP_LOGIN[0],
        TALKATIVE_SMTP_PASSWORD=SMTP_LOGIN[1],
        TALKATIVE_MAIL_FROM="approvals@talkative.example.com",
        TALKATIVE_PUBLIC_URL=PUBLIC_URL,
        TALKATIVE_WEBHOOKS_POLL_S="0.05",
        TALKATIVE_WEBHOOKS_BACKOFF_BASE_S="0.05",
        TALKATIVE_WEBHOOKS_BACKOFF_CAP_S="0.5",
        TALKATIVE_CLUSTER_POLL_S="0.2",
    )
    return Settings(**{**values, **extra})


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(Mailbox(), login=SMTP_LOGIN) as box:
        yield box


@pytest.fixture
def settings(tmp_path: Path, database_url: str, mailbox: Mailbox) -> Settings:
    return mail_settings(tmp_path, database_url, mailbox.port)
