"""Provisioning over SSH against a real sshd on 127.0.0.1 (so the "remote" folder is on this disk)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from talkative.fleet import ssh
from talkative.settings import Settings
from tests.fleet.conftest import Sshd, free_port, keygen
from tests.fleet.helpers import MAIL_TRIAGE_RUN, Auth, assert_laid_out, create
from tests.waiting import within

PROVISION = "/fleet/agents/scout/provision"


@pytest.fixture
def known_hosts(tmp_path: Path, sshd: Sshd) -> Path:
    """This test's own copy of the server's known_hosts (a test may replace the key in it)."""
    path = tmp_path / "known_hosts"
    shutil.copyfile(sshd.known_hosts, path)
    return path


@pytest.fixture
def settings(settings: Settings, sshd: Sshd, known_hosts: Path) -> Settings:
    return settings.model_copy(
        update={
            "fleet_ssh_key": sshd.client_key,
            "fleet_ssh_known_hosts": known_hosts,
            "fleet_ssh_timeout_s": 30.0,
            "fleet_ssh_connect_timeout_s": 5,
        }
    )


async def _ssh_node(
    client: httpx.AsyncClient, headers: dict[str, str], sshd: Sshd, base: Path, port: int | None = None
) -> dict[str, object]:
    body = {
        "name": f"loopback-{port or sshd.port}",
        "mode": "ssh",
        "ssh_host": "127.0.0.1",
        "ssh_user": sshd.user,
        "ssh_port": port or sshd.port,
        "base_path": str(base),
    }
    node: dict[str, object] = await create(client, "/fleet/nodes", body, headers)
    return node


async def test_provisions_over_ssh(client: httpx.AsyncClient, auth: Auth, sshd: Sshd, tmp_path: Path) -> None:
    admin = auth("admin", "tenant-a")
    base = tmp_path / "remote" / "agents"
    node = await _ssh_node(client, admin, sshd, base)
    skills = ["mail-triage", "git-watcher"]
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout", "skills": skills}, admin)

    response = await client.post(PROVISION, json={"node_id": node["id"]}, headers=admin)

    assert response.status_code == 200, f"{response.text}\nsshd log:\n{sshd.log.read_text(errors='replace')}"
    placement = response.json()
    assert (placement["status"], placement["path"], placement["error"]) == (
        "provisioned",
        f"{base}/scout",
        None,
    )
    assert placement["provisioned_at"]
    folder = base / "scout"
    config = assert_laid_out(
        folder, agent_id="scout", tenant_id="tenant-a", node_id=str(node["id"]), skills=skills
    )
    assert config["name"] == "Scout"
    assert (folder / "inputs" / "inbox.json").is_file()
    assert (folder / "HEARTBEAT.md").read_text().splitlines().count(MAIL_TRIAGE_RUN) == 1
    assert [p.name for p in base.iterdir()] == ["scout"]  # the staging folder is gone
    assert "PRIVATE KEY" not in response.text and str(sshd.client_key) not in response.text
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert (stored["status"], stored["last_error"]) == ("ready", None) and stored["last_seen_at"]


async def test_reprovisioning_over_ssh_keeps_the_agents_data(
    client: httpx.AsyncClient, auth: Auth, sshd: Sshd, tmp_path: Path
) -> None:
    admin = auth("admin", "tenant-a")
    base = tmp_path / "remote"
    node = await _ssh_node(client, admin, sshd, base)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout", "skills": ["git-watcher"]}, admin)
    assert (await client.post(PROVISION, json={"node_id": node["id"]}, headers=admin)).status_code == 200
    folder = base / "scout"
    (folder / "outputs" / "report.json").write_text("{}\n")
    (folder / "inputs").mkdir(exist_ok=True)
    (folder / "inputs" / "inbox.json").write_text("[]\n")
    with (folder / "HEARTBEAT.md").open("a") as heartbeat:
        heartbeat.write("RUN python skills/git-watcher/scripts/watch.py --repo .")  # no final newline

    response = await client.post(
        PROVISION,
        json={"node_id": node["id"], "skills": ["mail-triage", "monthly-bookkeeping"]},
        headers=admin,
    )

    assert response.status_code == 200, response.text
    assert_laid_out(
        folder,
        agent_id="scout",
        tenant_id="tenant-a",
        node_id=str(node["id"]),
        skills=["mail-triage", "monthly-bookkeeping"],
    )
    # Provisioning adds and refreshes skills; one laid out earlier stays.
    assert sorted(p.name for p in (folder / "skills").iterdir()) == [
        "git-watcher",
        "mail-triage",
        "monthly-bookkeeping",
    ]
    assert (folder / "inputs" / "inbox.json").read_text() == "[]\n"  # the agent's data is never replaced
    assert (folder / "outputs" / "report.json").read_text() == "{}\n"
    assert (folder / "inputs" / "transactions.csv").is_file()
    lines = (folder / "HEARTBEAT.md").read_text().splitlines()
    assert lines.count(MAIL_TRIAGE_RUN) == 1
    assert "RUN python skills/git-watcher/scripts/watch.py --repo ." in lines
    (folder / "skills" / "mail-triage" / "SKILL.md").write_text("tampered\n")
    again = await client.post(
        PROVISION, json={"node_id": node["id"], "skills": ["mail-triage"]}, headers=admin
    )
    assert again.status_code == 200
    assert_laid_out(
        folder, agent_id="scout", tenant_id="tenant-a", node_id=str(node["id"]), skills=["mail-triage"]
    )
    assert (folder / "HEARTBEAT.md").read_text().splitlines().count(MAIL_TRIAGE_RUN) == 1


async def test_host_key_mismatch_is_refused_and_recorded(
    client: httpx.AsyncClient, auth: Auth, sshd: Sshd, known_hosts: Path, tmp_path: Path
) -> None:
    impostor = keygen(tmp_path / "other_host_key")
    known_hosts.write_text(sshd.known_hosts_line(Path(f"{impostor}.pub")))
    admin = auth("admin", "tenant-a")
    base = tmp_path / "remote"
    node = await _ssh_node(client, admin, sshd, base)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)

    response = await client.post(PROVISION, json={"node_id": node["id"]}, headers=admin)

    assert response.status_code == 502, response.text
    body = response.json()
    assert body["code"] == "NODE_UNREACHABLE"
    assert "host key" in body["error"].lower() and "PRIVATE KEY" not in body["error"]
    assert not base.exists()
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert (stored["status"], stored["last_error"], stored["last_seen_at"]) == (
        "unreachable",
        body["error"],
        None,
    )
    placement = (await client.get("/fleet/agents/scout", headers=admin)).json()["placements"][0]
    assert (placement["status"], placement["error"]) == ("failed", body["error"])


async def test_closed_port_fails_fast_and_is_recorded(
    client: httpx.AsyncClient, auth: Auth, sshd: Sshd, tmp_path: Path
) -> None:
    admin = auth("admin", "tenant-a")
    node = await _ssh_node(client, admin, sshd, tmp_path / "remote", port=free_port())
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)

    response = await within(client.post(PROVISION, json={"node_id": node["id"]}, headers=admin))

    assert (response.status_code, response.json()["code"]) == (502, "NODE_UNREACHABLE")
    assert "refused" in response.json()["error"].lower()  # at once: not waited for until a timeout
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert stored["status"] == "unreachable"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung or firewalled host)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


async def test_a_silent_host_times_out(
    client: httpx.AsyncClient,
    auth: Auth,
    sshd: Sshd,
    settings: Settings,
    silent_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "fleet_ssh_timeout_s", 2.0)
    admin = auth("admin", "tenant-a")
    node = await _ssh_node(client, admin, sshd, tmp_path / "remote", port=silent_port)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)

    response = await within(
        client.post(PROVISION, json={"node_id": node["id"]}, headers=admin),
        what="provisioning a silent host never gave up",
    )

    assert (response.status_code, response.json()["code"]) == (502, "NODE_UNREACHABLE")
    assert "timed out after 2s" in response.json()["error"]
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert stored["status"] == "unreachable"


async def test_a_failing_remote_command_is_502_and_recorded(
    client: httpx.AsyncClient, auth: Auth, sshd: Sshd, tmp_path: Path
) -> None:
    blocker = tmp_path / "remote"
    blocker.write_text("a file where the folder should be\n")
    admin = auth("admin", "tenant-a")
    node = await _ssh_node(client, admin, sshd, blocker / "agents")
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)

    response = await client.post(PROVISION, json={"node_id": node["id"]}, headers=admin)

    assert (response.status_code, response.json()["code"]) == (502, "PROVISION_FAILED"), response.text
    assert "not a directory" in response.json()["error"].lower()
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    # The node answered: it is reachable, only the writing failed.
    assert stored["status"] == "error" and stored["last_seen_at"] is not None


def test_ssh_command_line_is_a_fixed_list(tmp_path: Path) -> None:
    config = ssh.SshConfig(key=tmp_path / "k", known_hosts=tmp_path / "kh", timeout_s=5, connect_timeout_s=3)
    target = ssh.Target(host="node.example", user="deploy", port=2222, base_path="/srv/agents")

    argv = ssh.ssh_argv("/usr/bin/ssh", config, tmp_path / "k", tmp_path / "kh", target)

    assert argv[:3] == ["/usr/bin/ssh", "-F", "/dev/null"]
    assert argv[-2:] == ["--", "node.example"]
    options = {argv[i + 1] for i, arg in enumerate(argv) if arg == "-o"}
    assert {
        "BatchMode=yes",
        "StrictHostKeyChecking=yes",
        f"UserKnownHostsFile={tmp_path / 'kh'}",
        "ConnectTimeout=3",
        "IdentitiesOnly=yes",
        "ForwardAgent=no",
    } <= options
    assert argv[argv.index("-i") + 1] == str(tmp_path / "k")
    assert argv[argv.index("-p") + 1] == "2222"
