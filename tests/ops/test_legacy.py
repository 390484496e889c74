"""`talkative import-legacy`: hand-made POC data (docs/product.md Appendix A) in, read via the API, twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from talkative import models_registry
from talkative.cluster.marker import MARKER_NAME
from talkative.db import Base
from talkative.llm_router.models import UsageDaily
from talkative.ops.legacy import NotADirectory, import_legacy, render_table
from talkative.ops.legacy_config import qualify_bare_models
from talkative.ops.legacy_read import ImportReport, LegacyAgentEvent, read_jsonl
from talkative.prompts.models import Prompt
from talkative.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
LEGACY = FIXTURES / "legacy"
WORKSPACES = FIXTURES / "workspace"
Auth = Callable[..., dict[str, str]]

# kind -> (imported, already present, malformed) for a first import of the fixtures.
FIRST: dict[str, tuple[int, int, int]] = {
    "agents": (2, 0, 1),
    "workspaces": (2, 0, 0),
    "workflows": (2, 0, 0),
    "workflow_versions": (3, 0, 1),
    "prompts": (3, 0, 0),
    "runs": (3, 0, 0),
    "run_steps": (2, 0, 0),
    "orchestrator_commands": (1, 1, 1),  # cmd1 is also run1's first step
    "agent_events": (5, 0, 2),
    "orchestrator_events": (1, 1, 0),  # oe1 repeats ag1's MESSAGE_RECEIVED
    "approvals": (2, 0, 0),
    "client_messages": (1, 0, 1),
    "internal_actions": (1, 0, 0),
    "router_rules": (0, 0, 1),
    "router_budgets": (1, 0, 0),
    "usage": (2, 0, 1),
    "tenants": (2, 0, 0),
    "clouds": (1, 0, 0),
    "nodes": (1, 0, 0),
}


def counts(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    return {k: (c.imported, c.skipped, c.malformed) for k, c in report.kinds.items()}


async def row_counts(app: FastAPI) -> dict[str, int]:
    models_registry.import_all()
    async with app.state.engine.connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in Base.metadata.sorted_tables
        }


async def test_first_import_counts_every_kind_and_names_bad_lines(settings: Settings, app: FastAPI) -> None:
    report = await import_legacy(settings, LEGACY, workspaces=WORKSPACES)

    assert counts(report) == FIRST
    problems = "\n".join(report.problems)
    assert "agents/ag1/events.jsonl:3: bad JSON" in problems
    assert "agents/ag1/events.jsonl:5: type: Field required" in problems
    assert "orchestrator/commands.jsonl:3: agent_id: Field required" in problems
    assert "channels/client-messages.jsonl:2: bad JSON" in problems
    assert "llm-router/usage.jsonl:3: tokens" in problems
    assert "agents.json agents[2]: name: Field required" in problems
    assert "llm-router/rules.json: invalid rules" in problems and "nosuchprovider" in problems
    assert "references missing node 'ghost'" in problems
    table = render_table(report)
    assert "already present" in table and "not yet supported" not in table


async def test_imported_data_is_served_by_the_api(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await import_legacy(settings, LEGACY, workspaces=WORKSPACES)
    tenant_a, default = auth("viewer", "tenant-a"), auth("viewer", "tenant-default")

    agents = (await client.get("/agents", headers=tenant_a)).json()["agents"]
    assert [(a["id"], a["status"], a["workspace"]) for a in agents] == [
        ("ag1", "running", "workspaces/tenant-a/ag1")
    ]
    # The old-format entry (no agent_id, no tenant_id) lands in the default tenant.
    old = (await client.get("/agents", headers=default)).json()["agents"]
    assert [(a["id"], a["tenant_id"], a["heartbeatMinutes"]) for a in old] == [("old1", "tenant-default", 60)]

    events = (await client.get("/agents/ag1/events", headers=tenant_a)).json()["events"]
    assert [e["type"] for e in events] == [
        "AGENT_CREATED",
        "MESSAGE_RECEIVED",
        "WORKFLOW_PATCH_APPLIED",
        "HEARTBEAT_TICK",
        "RUN_COMPLETED",
    ]
    assert events[1]["run_id"] == "run1" and events[1]["tenant_id"] == "tenant-a"
    old_events = (await client.get("/agents/old1/events", headers=default)).json()["events"]
    assert [(e["type"], e["timestamp"][:19]) for e in old_events] == [
        ("AGENT_CREATED", "2024-11-05T12:00:00")
    ]

    run = (await client.get("/orchestrator/runs/run1", headers=tenant_a)).json()
    assert (run["status"], run["kind"], run["finished_at"][:19]) == (
        "completed",
        "legacy",
        "2025-03-01T09:31:00",
    )
    assert [(s["type"], s["name"]) for s in run["steps"]] == [
        ("command", "message"),
        ("event", "MESSAGE_RECEIVED"),
        ("event", "WORKFLOW_PATCH_APPLIED"),
        ("command", "approve"),
        ("event", "RUN_COMPLETED"),
    ]
    unknown = (await client.get("/orchestrator/runs/run2", headers=tenant_a)).json()
    assert (unknown["status"], unknown["subagent_state"]) == ("failed", "error")
    assert unknown["last_error"] == "imported with unknown status exploded; boom"
    waiting = (await client.get("/orchestrator/runs/run3", headers=tenant_a)).json()
    assert waiting["status"] == "waiting_approval"

    approvals = (await client.get("/approvals", headers=tenant_a)).json()["approvals"]
    assert {(a["id"], a["status"], a["run_id"]) for a in approvals} == {
        ("apr1", "pending", "run3"),
        ("apr2", "approved", "run1"),
    }

    usage = (await client.get("/router/admin/usage", headers=tenant_a)).json()["usage"]
    assert [(u["model"], u["tokens"], u["status"], u["created_at"][:10]) for u in usage] == [
        ("local", 120, "ok", "2025-03-01"),
        ("openai/gpt-4o-mini", 800, "error", "2025-03-02"),
    ]
    budgets = (await client.get("/router/admin/budgets", headers=auth("admin", None))).json()
    assert "tenant-a" in json.dumps(budgets)

    workflow = (await client.get("/agents/ag1/workflow", headers=tenant_a)).json()
    assert workflow["version"] == 2
    graph = json.dumps(workflow)
    assert "Pay supplier" in graph and "contribution" not in graph


async def test_usage_rollup_prompts_and_workflows_are_consistent(settings: Settings, app: FastAPI) -> None:
    await import_legacy(settings, LEGACY, workspaces=WORKSPACES)
    async with app.state.sessionmaker() as session:
        days = (await session.scalars(select(UsageDaily).order_by(UsageDaily.day))).all()
        active = (await session.scalars(select(Prompt).where(Prompt.is_active.is_(True)))).all()
    assert [(d.day, d.model, d.requests, d.errors, d.tokens, round(d.cost, 6)) for d in days] == [
        (date(2025, 3, 1), "local", 1, 0, 120, 0.0),
        (date(2025, 3, 2), "openai/gpt-4o-mini", 1, 1, 800, 0.0012),
    ]
    assert sorted((p.agent_id, p.version) for p in active) == [("ag1", 2), ("old1", 1)]


async def test_second_run_imports_nothing_and_changes_no_row(settings: Settings, app: FastAPI) -> None:
    first = await import_legacy(settings, LEGACY, workspaces=WORKSPACES)
    rows = await row_counts(app)
    files = sorted(p.relative_to(settings.data_dir) for p in settings.workspaces_dir.rglob("*"))

    second = await import_legacy(settings, LEGACY, workspaces=WORKSPACES)

    assert all(c.imported == 0 for c in second.kinds.values()), counts(second)
    for kind, (imported, skipped, malformed) in counts(first).items():
        assert counts(second)[kind] == (0, imported + skipped, malformed), kind
    assert await row_counts(app) == rows
    assert rows["agents"] == 2 and rows["events"] == 6 and rows["usage_ledger"] == 2
    assert sorted(p.relative_to(settings.data_dir) for p in settings.workspaces_dir.rglob("*")) == files


async def test_workspaces_are_copied_without_overwriting(settings: Settings, app: FastAPI) -> None:
    ours = settings.workspaces_dir / "tenant-a" / "ag1" / "inputs" / "invoice-1.txt"
    ours.parent.mkdir(parents=True)
    ours.write_text("ours\n")

    report = await import_legacy(settings, LEGACY, workspaces=WORKSPACES)

    ag1 = settings.workspaces_dir / "tenant-a" / "ag1"
    assert ours.read_text() == "ours\n"
    assert (ag1 / "skills" / "notes" / "skill.yaml").read_text() == "name: notes\n"
    assert (ag1 / "outputs" / "report.txt").read_text() == "kept\n"
    assert json.loads((ag1 / "config.json").read_text())["owner"] == "legacy"
    old1 = settings.workspaces_dir / "tenant-default" / "old1"  # no legacy folder: laid out empty
    assert json.loads((old1 / "config.json").read_text()) == {"heartbeatMinutes": 60}
    assert all((old1 / sub).is_dir() for sub in ("skills", "inputs", "outputs"))
    assert (old1 / "HEARTBEAT.md").is_file()
    assert any("no folder 'old1'" in p for p in report.problems)


async def test_without_workspaces_option_empty_workspaces_are_laid_out(
    settings: Settings, app: FastAPI
) -> None:
    report = await import_legacy(settings, LEGACY)

    assert counts(report)["workspaces"] == (2, 0, 0)
    ag1 = settings.workspaces_dir / "tenant-a" / "ag1"
    assert json.loads((ag1 / "config.json").read_text()) == {"heartbeatMinutes": 15}
    assert not (ag1 / "inputs" / "invoice-1.txt").exists()


async def test_dry_run_reports_the_same_counts_and_writes_nothing(settings: Settings, app: FastAPI) -> None:
    rows = await row_counts(app)

    report = await import_legacy(settings, LEGACY, workspaces=WORKSPACES, dry_run=True)

    assert counts(report) == FIRST
    assert await row_counts(app) == rows
    # Nothing but what the server wrote at start (on PostgreSQL, the cluster's marker).
    assert {p.name for p in settings.workspaces_dir.glob("*")} <= {MARKER_NAME}
    assert "dry run" in render_table(report)


async def test_valid_rules_are_saved_once_and_a_broken_file_skips_only_its_kind(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient, auth: Auth, tmp_path: Path
) -> None:
    source = tmp_path / "legacy"
    shutil.copytree(LEGACY, source)
    rules = {"default_model": "local", "routes": [{"match": "invoice", "model": "local", "max_tokens": 256}]}
    (source / "llm-router" / "rules.json").write_text(
        json.dumps({**rules, "updated_at": "2025-02-01T08:00:00Z"})
    )
    (source / "agents.json").write_text('{"agents": [')
    (source / "approvals" / "requests.json").write_text('{"requests": {"apr1": {}}}')

    first = await import_legacy(settings, source)
    second = await import_legacy(settings, source)

    assert counts(first)["router_rules"] == (1, 0, 0) and counts(second)["router_rules"] == (0, 1, 0)
    assert counts(first)["agents"] == (0, 0, 1) and counts(first)["approvals"] == (0, 0, 1)
    assert counts(first)["agent_events"] == (5, 0, 2)  # the other kinds go on
    assert any(p.startswith("agents.json: bad JSON") and "agents skipped" in p for p in first.problems)
    assert any(p.startswith("approvals/requests.json: expected") for p in first.problems)
    got = (await client.get("/router/admin/rules", headers=auth("admin", None))).json()
    assert got["default_model"] == "local" and got["routes"][0]["match"] == "invoice"


def test_jsonl_reader_survives_any_bytes(tmp_path: Path) -> None:
    path = tmp_path / "agents" / "x" / "events.jsonl"
    path.parent.mkdir(parents=True)
    lines = [
        b'{"type": "A", "timestamp": "2025-01-01T00:00:00Z"}',
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b'{"type": 7, "timestamp": "2025-01-01T00:00:00Z"}',
        b'{"type": "B", "timestamp": "yesterday"}',
        b'{"type": "C", "timestamp": "2025-01-01T00:00:00Z", "payload": "not an object"}',
        b'{"type": "D\\u0000", "timestamp": "2025-01-01T00:00:00Z"}',
        b'{"type": "E", "timestamp": "2025-01-01T00:00:00+02:00"}',
    ]
    path.write_bytes(b"\n".join(lines))
    report = ImportReport(source=tmp_path)

    records = read_jsonl(path, LegacyAgentEvent, "agent_events", report)

    assert [(where, r.type) for where, r in records] == [
        ("agents/x/events.jsonl:1", "A"),
        ("agents/x/events.jsonl:8", "E"),
    ]
    assert records[1][1].timestamp.isoformat() == "2024-12-31T22:00:00+00:00"
    assert report.kind("agent_events").malformed == 6
    assert [p.split(":")[1] for p in report.problems] == ["2", "3", "4", "5", "6", "7"]


async def test_a_missing_folder_is_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(NotADirectory):
        await import_legacy(settings, tmp_path / "nope")
    with pytest.raises(NotADirectory):
        await import_legacy(settings, LEGACY, workspaces=tmp_path / "nope")


def _cli(args: list[str], data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALKATIVE_", "AUTH_"))}
    env |= {"TALKATIVE_DATA_DIR": str(data_dir), "TALKATIVE_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "talkative", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _table(stdout: str) -> dict[str, tuple[int, int, int]]:
    rows: dict[str, tuple[int, int, int]] = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) >= 4 and cells[0] in FIRST and all(c.isdigit() for c in cells[1:4]):
            rows[cells[0]] = (int(cells[1]), int(cells[2]), int(cells[3]))
    return rows


def test_cli_imports_then_imports_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"

    first = _cli(["import-legacy", str(LEGACY), "--workspaces", str(WORKSPACES)], data, tmp_path)
    second = _cli(["import-legacy", str(LEGACY), "--workspaces", str(WORKSPACES)], data, tmp_path)

    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    assert _table(first.stdout) == FIRST
    assert "agents/ag1/events.jsonl:3" in first.stdout and "agents/ag1/events.jsonl:5" in first.stdout
    assert second.returncode == 0, second.stderr
    assert {kind: row[0] for kind, row in _table(second.stdout).items()} == dict.fromkeys(FIRST, 0)
    assert (data / "talkative.db").is_file() and (
        data / "workspaces" / "tenant-a" / "ag1" / "inputs" / "invoice-1.txt"
    ).is_file()


def test_cli_exits_1_when_the_folder_is_missing(tmp_path: Path) -> None:
    result = _cli(["import-legacy", str(tmp_path / "missing")], tmp_path / "data", tmp_path)

    assert result.returncode == 1
    assert "is not a directory" in result.stderr and "Traceback" not in result.stderr


async def test_the_pocs_bare_model_names_are_imported_as_openais(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient, auth: Auth, tmp_path: Path
) -> None:
    """The reference POC's own rules name models bare ("gpt-4o-mini"): kept, as openai/<name>."""
    source = tmp_path / "legacy"
    shutil.copytree(LEGACY, source)
    rules = {
        "default_model": "gpt-4o-mini",
        "routes": [
            {"match": "invoice", "model": "gpt-4o", "max_tokens": 512},
            {"match": "hello", "model": "local", "max_tokens": 64},
            {"match": "mail", "model": "openai/gpt-4.1-mini", "max_tokens": 128},
        ],
        "prices": {"gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}},
        "updated_at": "2025-02-01T08:00:00Z",
    }
    (source / "llm-router" / "rules.json").write_text(json.dumps(rules))

    report = await import_legacy(settings, source)

    assert counts(report)["router_rules"] == (1, 0, 0)
    assert not any("rules.json" in p for p in report.problems)
    assert report.changes == [
        "llm-router/rules.json: bare model name taken as OpenAI's: default_model 'gpt-4o-mini' -> 'openai/gpt-4o-mini'",
        "llm-router/rules.json: bare model name taken as OpenAI's: routes[0].model 'gpt-4o' -> 'openai/gpt-4o'",
        "llm-router/rules.json: bare model name taken as OpenAI's: prices 'gpt-4o-mini' -> 'openai/gpt-4o-mini'",
    ]
    assert "Imported with changes (3):" in render_table(report)
    got = (await client.get("/router/admin/rules", headers=auth("admin", None))).json()
    assert got["default_model"] == "openai/gpt-4o-mini"
    assert [r["model"] for r in got["routes"]] == ["openai/gpt-4o", "local", "openai/gpt-4.1-mini"]
    assert set(got["prices"]) == {"openai/gpt-4o-mini"}


@pytest.mark.parametrize(
    ("rules", "expected", "changes"),
    [
        ({"default_model": "local"}, {"default_model": "local"}, 0),
        ({"default_model": "gpt-4o"}, {"default_model": "openai/gpt-4o"}, 1),
        (
            {"routes": [{"model": "x/y"}, {"model": 7}, "junk"]},
            {"routes": [{"model": "x/y"}, {"model": 7}, "junk"]},
            0,
        ),
        ({"default_model": ""}, {"default_model": ""}, 0),  # left for the validator to refuse
    ],
)
def test_qualify_bare_models(rules: dict[str, Any], expected: dict[str, Any], changes: int) -> None:
    doc, changed = qualify_bare_models(rules)
    assert doc == expected and len(changed) == changes
