"""Provisioning onto a local node: the tree lands under the local root, and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.fleet.helpers import MAIL_TRIAGE_RUN, Auth, assert_laid_out, create


async def test_provisioning_lays_the_workspace_out(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    admin = auth("admin", "tenant-a")
    node = await create(client, "/fleet/nodes", {"name": "here"}, admin)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout", "skills": ["mail-triage"]}, admin)

    response = await client.post("/fleet/agents/scout/provision", json={"node_id": node["id"]}, headers=admin)

    assert response.status_code == 200, response.text
    placement = response.json()
    folder = app.state.settings.fleet_root.resolve() / "tenant-a" / "scout"
    assert (placement["status"], placement["path"], placement["error"]) == ("provisioned", str(folder), None)
    config = assert_laid_out(
        folder, agent_id="scout", tenant_id="tenant-a", node_id=node["id"], skills=["mail-triage"]
    )
    assert config["name"] == "Scout"
    assert (folder / "inputs" / "inbox.json").is_file()
    assert [p.name for p in (folder / "skills").iterdir()] == ["mail-triage"]
    assert (folder / "HEARTBEAT.md").read_text().splitlines().count(MAIL_TRIAGE_RUN) == 1
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert (stored["status"], stored["last_error"]) == ("ready", None) and stored["last_seen_at"]
    agent = (await client.get("/fleet/agents/scout", headers=admin)).json()
    assert agent["placements"] == [placement]


async def test_reprovisioning_refreshes_skills_and_keeps_the_agents_data(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    admin = auth("admin", "tenant-a")
    base = app.state.settings.fleet_root / "tenant-a" / "team"
    node = await create(client, "/fleet/nodes", {"name": "here", "base_path": str(base)}, admin)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout", "skills": ["mail-triage"]}, admin)
    url = "/fleet/agents/scout/provision"
    assert (await client.post(url, json={"node_id": node["id"]}, headers=admin)).status_code == 200
    folder = base.resolve() / "scout"
    (folder / "inputs" / "inbox.json").write_text("[]\n")
    (folder / "outputs" / "report.json").write_text("{}\n")
    (folder / "skills" / "mail-triage" / "SKILL.md").write_text("tampered\n")

    again = await client.post(
        url, json={"node_id": node["id"], "skills": ["mail-triage", "monthly-bookkeeping"]}, headers=admin
    )

    assert again.status_code == 200, again.text
    assert again.json()["skills"] == ["mail-triage", "monthly-bookkeeping"]
    assert_laid_out(
        folder,
        agent_id="scout",
        tenant_id="tenant-a",
        node_id=node["id"],
        skills=["mail-triage", "monthly-bookkeeping"],
    )
    assert (folder / "inputs" / "inbox.json").read_text() == "[]\n"
    assert (folder / "outputs" / "report.json").read_text() == "{}\n"
    assert (folder / "inputs" / "transactions.csv").is_file()
    assert (folder / "HEARTBEAT.md").read_text().splitlines().count(MAIL_TRIAGE_RUN) == 1


async def test_a_symlink_out_of_the_root_is_refused_and_recorded(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI, tmp_path: Path
) -> None:
    admin = auth("admin", "tenant-a")
    root = app.state.settings.fleet_root / "tenant-a"
    node = await create(client, "/fleet/nodes", {"name": "here", "base_path": str(root / "link")}, admin)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, root / "link")

    response = await client.post("/fleet/agents/scout/provision", json={"node_id": node["id"]}, headers=admin)

    assert (response.status_code, response.json()["code"]) == (422, "UNSAFE_BASE_PATH")
    assert list(outside.iterdir()) == []
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert stored["status"] == "error" and "outside the tenant's folder" in stored["last_error"]


async def test_a_write_failure_is_502_and_recorded(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    admin = auth("admin", "tenant-a")
    root = app.state.settings.fleet_root / "tenant-a"
    node = await create(client, "/fleet/nodes", {"name": "here", "base_path": str(root / "blocked")}, admin)
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout", "skills": ["git-watcher"]}, admin)
    root.mkdir(parents=True, exist_ok=True)
    (root / "blocked").write_text("a file where the folder should be\n")

    response = await client.post("/fleet/agents/scout/provision", json={"node_id": node["id"]}, headers=admin)

    assert response.status_code == 502, response.text
    assert response.json()["code"] == "PROVISION_FAILED"
    stored = (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()
    assert stored["status"] == "error" and stored["last_error"] == response.json()["error"]
    placement = (await client.get("/fleet/agents/scout", headers=admin)).json()["placements"][0]
    assert (placement["status"], placement["provisioned_at"], placement["skills"]) == (
        "failed",
        None,
        ["git-watcher"],
    )
    assert placement["error"] == response.json()["error"]
