"""The approval mail (composed, pure) and sending it through the configured SMTP server."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from talkative.settings import Settings

PREFIXES = {"APPROVAL_REMINDER": "Reminder: ", "APPROVAL_ESCALATED": "Escalated: "}
MAX_SUBJECT_REASON = 120
MESSAGE_DOMAIN = "talkative"


@dataclass(frozen=True)
class Request:
    """What a mail says about one approval."""

    approval_id: str
    event_id: int
    event_type: str
    tenant_id: str
    agent_id: str
    run_id: str | None
    reason: str
    requested_by: str | None
    deadline_at: datetime | None
    link: str
    link_expires_at: datetime


def _one_line(text: str) -> str:
    return " ".join(text.split())


def subject_of(request: Request) -> str:
    reason = _one_line(request.reason)
    if len(reason) > MAX_SUBJECT_REASON:
        reason = reason[: MAX_SUBJECT_REASON - 1] + "…"
    return f"{PREFIXES.get(request.event_type, '')}Approval needed: {reason}"


def compose(request: Request, *, sender: str, to: str, delivery_id: str) -> EmailMessage:
    """The mail; its Message-ID is the same on every attempt (a reader's client dedupes on it)."""
    message = EmailMessage()
    message["Subject"] = subject_of(request)
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = f"<{delivery_id}@{MESSAGE_DOMAIN}>"
    message["Talkative-Event-Id"] = str(request.event_id)
    message["Talkative-Approval-Id"] = request.approval_id
    message["Auto-Submitted"] = "auto-generated"
    lines = [
        "An approval is waiting for your decision."
        if request.event_type != "APPROVAL_REMINDER"
        else "Reminder: an approval is still waiting for your decision.",
        "",
        f"Reason:       {request.reason}",
        f"Agent:        {request.agent_id} (tenant {request.tenant_id})",
        f"Run:          {request.run_id or '-'}",
        f"Asked by:     {request.requested_by or '-'}",
        f"Deadline:     {format_datetime(request.deadline_at) if request.deadline_at else 'none'}",
        "",
        "Open it to approve or reject:",
        request.link,
        "",
        f"This link acts for you on this approval only, until {format_datetime(request.link_expires_at)}.",
        "Do not forward it.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Sends one mail (blocking: run it in a thread). Raises smtplib.SMTPException or OSError."""
    assert settings.smtp_host is not None
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_ssl:
        client = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s, context=context
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    with client:
        if not settings.smtp_ssl and settings.smtp_starttls:
            client.starttls(context=context)
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password or "")
        client.send_message(message)


def describe(exc: BaseException) -> str:
    """Why a send failed, in words that hold no password, address list or message."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the SMTP server answered {exc.smtp_code} ({type(exc).__name__})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the SMTP server refused the recipient"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "could not connect to the SMTP server (connection refused)"
    if isinstance(exc, OSError):
        return f"could not reach the SMTP server ({type(exc).__name__})"
    return f"sending failed ({type(exc).__name__})"
