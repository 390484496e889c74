"""The emailed approval link through a real `talkative serve` over TCP and a real SMTP server
(aiosmtpd): the mail arrives, and its token reads and decides that approval and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.approval_mail.smtp import Mailbox, link_of, smtp_server
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess, free_port
from tests.waiting import eventually_sync

pytestmark = pytest.mark.e2e
TENANT = "tenant-a"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(Mailbox()) as box:
        yield box


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[ServerProcess]:
    port = free_port()
    env = {
        "AUTH_JWT_SECRET": TEST_SECRET,
        "TALKATIVE_SMTP_HOST": "127.0.0.1",
        "TALKATIVE_SMTP_PORT": str(mailbox.port),
        "TALKATIVE_SMTP_STARTTLS": "false",
        "TALKATIVE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TALKATIVE_WEBHOOKS_POLL_S": "0.1",
    }
    data_dir: Path = tmp_path_factory.mktemp("mail") / "data"
    server = ServerProcess(data_dir=data_dir, env=env, port=port).start()
    yield server
    server.stop()


def test_the_emailed_link_decides_through_the_server(mail_server: ServerProcess, mailbox: Mailbox) -> None:
    def headers(role: Role, sub: str = "e2e") -> dict[str, str]:
        token = mint_token(secret=TEST_SECRET, sub=sub, role=role, tenant_id=TENANT, ttl=timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    operator, olga = headers(Role.OPERATOR), headers(Role.OPERATOR, "olga")
    with httpx.Client(base_url=mail_server.url, timeout=30) as http:
        assert (
            http.post("/agents", json={"id": "helper", "name": "Helper"}, headers=operator).status_code == 201
        )
        created = http.post("/approval-recipients", json={"address": "olga@example.com"}, headers=olga)
        assert created.status_code == 201, created.text
        assert (created.json()["subject"], created.json()["role"]) == ("olga", "operator")
        approval = http.post(
            "/approvals", json={"agent_id": "helper", "reason": "refund order 42"}, headers=operator
        )
        assert approval.status_code == 201, approval.text
        approval_id = approval.json()["id"]
        [message] = eventually_sync(lambda: mailbox.to("olga@example.com") or None, what="no mail arrived")
        link, linked_id, token = link_of(message)
        assert linked_id == approval_id and link.startswith(
            f"{mail_server.url}/approvals/{approval_id}#token="
        )
        link_headers = {"Authorization": f"Bearer {token}"}

        # The page itself is served to a browser (the token stays in the fragment, never sent).
        page = http.get(link.split("#")[0], headers={"Sec-Fetch-Dest": "document", "Accept": "text/html"})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert http.get("/agents", headers=link_headers).status_code == 403
        tampered = {"Authorization": f"Bearer {token[:-3]}xyz"}
        assert http.get(f"/approvals/{approval_id}", headers=tampered).status_code == 401
        read = http.get(f"/approvals/{approval_id}", headers=link_headers)
        assert read.status_code == 200 and read.json()["reason"] == "refund order 42"
        decided = http.post(
            f"/approvals/{approval_id}/decision",
            json={"decision": "approved", "note": "fine"},
            headers=link_headers,
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["decided_by"] == "olga" and decided.json()["status"] == "approved"
        again = http.post(
            f"/approvals/{approval_id}/decision", json={"decision": "rejected"}, headers=link_headers
        )
        assert again.status_code == 409
    assert token not in mail_server.output()
