"""`import-legacy` for the fleet files: tenants, clouds and nodes, by legacy id, checked like the API."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from talkative.ops.legacy import import_legacy, render_table
from talkative.ops.legacy_read import ImportReport
from talkative.settings import Settings

LEGACY = Path(__file__).parent / "fixtures" / "legacy"
Auth = Callable[..., dict[str, str]]
FLEET_KINDS = ("tenants", "clouds", "nodes")
T0 = "2025-01-01T00:00:00Z"


def fleet_counts(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    return {k: (c.imported, c.skipped, c.malformed) for k, c in report.kinds.items() if k in FLEET_KINDS}


def _node(id_: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": id_,
        "tenant_id": "tenant-a",
        "agent_id": None,
        "cloud_id": "c1",
        "name": id_,
        "created_at": T0,
    }
    return {**base, **fields}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The fixtures, with fleet files that hold every kind of bad entry next to good ones."""
    folder = tmp_path / "legacy"
    shutil.copytree(LEGACY, folder)
    tenants = [
        {"id": "t1", "tenant_id": "tenant-a", "agent_id": None, "name": "Acme", "created_at": T0},
        {"id": "t2", "agent_id": None, "name": "Default", "created_at": T0},
        {"id": "t3", "tenant_id": "tenant-a", "name": "Acme twice", "created_at": T0},
        {"id": "t4", "tenant_id": "tenant-b"},
        "not an object",
    ]
    clouds = [
        {
            "id": "c1",
            "tenant_id": "tenant-a",
            "name": "home",
            "provider": "local",
            "region": "eu",
            "created_at": T0,
        },
        {"id": "c2", "tenant_id": "tenant-b", "name": "aws", "provider": "aws", "created_at": T0},
        {"id": "c3", "tenant_id": "tenant-a", "name": "home", "provider": "aws", "created_at": T0},
        {"id": "c4", "tenant_id": "tenant-a", "name": "no provider", "created_at": T0},
        {"id": "c1", "tenant_id": "tenant-a", "name": "home", "provider": "local", "created_at": T0},
    ]
    nodes = [
        _node(
            "nd1",
            mode="ssh",
            ssh_host="10.0.0.5",
            ssh_user="poc",
            ssh_port=22,
            base_path="/srv/agents",
            metadata={},
        ),
        _node("nd2", mode="local", ssh_port=22, base_path=None),
        _node("nd3", mode="local", base_path="/home/poc/workspace"),
        _node("nd4", mode="ssh", ssh_host="-oProxyCommand=x", ssh_user="poc", base_path="/srv/agents"),
        _node("nd5", mode="ssh", ssh_host="h", ssh_user="poc", ssh_port=70000, base_path="/srv/agents"),
        _node("nd6", mode="ssh", ssh_host="h", ssh_user="poc", base_path="relative/path"),
        _node("nd7", mode="ssh", ssh_host="h", ssh_user="poc"),
        _node("nd8", mode="docker"),
        _node("nd9", mode="local", cloud_id="c2"),
        _node("nd10", mode="local", cloud_id="ghost"),
        _node("nd11", mode="local", name="nd1"),
        _node("nd12", mode="ssh", ssh_host="h;rm -rf /", ssh_user="poc", base_path="/srv/a"),
    ]
    for name, key, items in (
        ("tenants", "tenants", tenants),
        ("clouds", "clouds", clouds),
        ("nodes", "nodes", nodes),
    ):
        (folder / f"{name}.json").write_text(json.dumps({key: items}))
    return folder


async def test_fleet_files_are_imported_once_and_bad_entries_named(
    settings: Settings, app: FastAPI, source: Path
) -> None:
    first = await import_legacy(settings, source)
    second = await import_legacy(settings, source)

    assert fleet_counts(first) == {"tenants": (2, 1, 2), "clouds": (2, 1, 2), "nodes": (4, 0, 8)}
    assert fleet_counts(second) == {"tenants": (0, 3, 2), "clouds": (0, 3, 2), "nodes": (0, 4, 8)}
    problems = "\n".join(first.problems)
    for expected in [
        "tenants.json tenants[3]: name: Field required",
        "tenants.json tenants[4]: not a JSON object",
        "clouds.json clouds[2]: tenant tenant-a already has 'home' (c1)",
        "clouds.json clouds[3]: provider: Field required",
        "nodes.json nodes[3]: ssh_host:",
        "nodes.json nodes[4]: ssh_port:",
        "nodes.json nodes[5]: base_path:",
        "nodes.json nodes[6]: mode 'ssh' requires base_path",
        "nodes.json nodes[7]: mode:",
        "nodes.json nodes[8]: references cloud 'c2' of another tenant, not of tenant-a",
        "nodes.json nodes[10]: tenant tenant-a already has 'nd1' (nd1)",
        "nodes.json nodes[11]: ssh_host:",
        "nodes.json nodes[2]: base_path /home/poc/workspace is outside the tenant's folder of TALKATIVE_FLEET_LOCAL_ROOT",
    ]:
        assert expected in problems, expected
    assert "not yet supported" not in render_table(first)
    # A node whose cloud clouds.json lacks is imported, its cloud created, and the report says so.
    assert "cloud 'ghost'" not in problems
    assert first.changes == [
        "nodes.json nodes[9]: cloud 'ghost' is missing from clouds.json: created for tenant-a "
        "(name 'ghost', provider 'unknown')"
    ]
    assert second.changes == []
    assert "Imported with changes (1):" in render_table(first)


async def test_imported_fleet_is_served_by_the_api(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient, auth: Auth, source: Path
) -> None:
    await import_legacy(settings, source)
    admin_a = auth("admin", "tenant-a")

    tenants = (await client.get("/fleet/tenants", headers=auth("admin", None))).json()["tenants"]
    assert {(t["id"], t["tenant_id"], t["name"]) for t in tenants} == {
        ("t1", "tenant-a", "Acme"),
        ("t2", "tenant-default", "Default"),
    }
    clouds = (await client.get("/fleet/clouds", headers=admin_a)).json()["clouds"]
    assert sorted((c["id"], c["name"], c["provider"], c["region"]) for c in clouds) == [
        ("c1", "home", "local", "eu"),
        ("ghost", "ghost", "unknown", None),  # created for the node that named it
    ]
    nodes = {n["id"]: n for n in (await client.get("/fleet/nodes", headers=admin_a)).json()["nodes"]}
    assert set(nodes) == {"nd1", "nd2", "nd3", "nd10"}
    assert nodes["nd10"]["cloud_id"] == "ghost"
    ssh_node = nodes["nd1"]
    assert (ssh_node["mode"], ssh_node["ssh_host"], ssh_node["ssh_user"], ssh_node["ssh_port"]) == (
        "ssh",
        "10.0.0.5",
        "poc",
        22,
    )
    assert (ssh_node["base_path"], ssh_node["cloud_id"], ssh_node["status"]) == ("/srv/agents", "c1", "new")
    assert (nodes["nd2"]["ssh_port"], nodes["nd3"]["base_path"]) == (None, None)
    # A local node imported from the POC is provisioned like any other.
    await client.post("/fleet/agents", json={"id": "scout", "name": "Scout"}, headers=admin_a)
    placed = await client.post("/fleet/agents/scout/provision", json={"node_id": "nd3"}, headers=admin_a)
    assert placed.status_code == 200, placed.text
    assert (settings.fleet_root / "tenant-a" / "scout" / "config.json").is_file()


async def test_dry_run_counts_the_fleet_and_writes_nothing(
    settings: Settings, app: FastAPI, source: Path
) -> None:
    report = await import_legacy(settings, source, dry_run=True)
    real = await import_legacy(settings, source)

    assert fleet_counts(report) == fleet_counts(real)
