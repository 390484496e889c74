"""The migrations and the models describe the same schema, and every migration can be undone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from talkative import migrations, models_registry
from talkative.db import Base, create_engine
from tests.conftest import TEST_SECRET, fresh_pg_database


def _diff(url: str) -> list[object]:
    models_registry.import_all()

    def compare(sync: Connection) -> list[object]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"


def test_models_match_migrations(sqlite_url: str) -> None:
    migrations.upgrade(sqlite_url)
    assert _diff(sqlite_url) == []


def test_downgrade_to_nothing_and_back(sqlite_url: str) -> None:
    migrations.upgrade(sqlite_url)
    migrations.downgrade(sqlite_url, "base")
    assert _tables(sqlite_url) <= {"alembic_version"}
    migrations.upgrade(sqlite_url)
    assert {"agents", "events", "runs", "run_steps", "approvals", "prompts", *FLEET_TABLES} <= _tables(
        sqlite_url
    )


def test_models_match_migrations_on_postgresql(pg_database: str) -> None:
    migrations.upgrade(pg_database)
    assert _diff(pg_database) == []


# Rows written with each revision's own schema (raw SQL, as the previous release would have).
FILL = {
    "0001_agents": [
        "INSERT INTO agents (id, tenant_id, name, status, heartbeat_minutes, workspace, created_at, updated_at) "
        "VALUES ('old-agent', 't1', 'Old', 'running', 30, 'workspaces/old-agent', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    ],
    "0002_agent_loop": [
        "INSERT INTO events (tenant_id, agent_id, run_id, type, message, payload, created_at) "
        "VALUES ('t1', 'old-agent', 'run_1', 'MESSAGE_RECEIVED', 'hi', '{}', '2026-01-01 00:00:00')",
        "INSERT INTO runs (id, tenant_id, agent_id, kind, input, status, subagent_state, created_at, updated_at) "
        "VALUES ('run_1', 't1', 'old-agent', 'message', 'hi', 'completed', 'idle', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "INSERT INTO workflows (id, tenant_id, agent_id, name, version, created_at, updated_at) "
        "VALUES ('agent-wf-old-agent', 't1', 'old-agent', 'Old workflow', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "INSERT INTO workflow_versions (workflow_id, version, graph, created_at) "
        "VALUES ('agent-wf-old-agent', 1, '{\"nodes\": [], \"edges\": []}', '2026-01-01 00:00:00')",
    ],
    "0003_orchestrator": [
        "INSERT INTO approvals (id, tenant_id, agent_id, run_id, reason, status, requested_at) "
        "VALUES ('apr_1', 't1', 'old-agent', 'run_1', 'wire', 'pending', '2026-01-01 00:00:00')",
        "INSERT INTO prompts (id, tenant_id, agent_id, version, template, is_active, created_at) "
        "VALUES ('prm_1', 't1', 'old-agent', 1, 'Be brief.', TRUE, '2026-01-01 00:00:00')",
    ],
    "0004_llm_router": [
        "INSERT INTO usage_ledger (tenant_id, agent_id, run_id, model, prompt_tokens, completion_tokens, tokens, cost, "
        "latency_ms, status, created_at) VALUES ('t1', 'old-agent', 'run_1', 'local', 1, 2, 3, 0, 1.5, 'ok', "
        "'2026-01-01 00:00:00')",
    ],
    "0005_fleet": [
        "INSERT INTO fleet_tenants (id, tenant_id, name, created_at) VALUES ('ten_1', 't1', 'T one', '2026-01-01 00:00:00')",
        "INSERT INTO fleet_clouds (id, tenant_id, name, provider, region, created_at) "
        "VALUES ('cld_1', 't1', 'home', 'local', 'eu', '2026-01-01 00:00:00')",
        "INSERT INTO fleet_nodes (id, tenant_id, cloud_id, name, mode, ssh_host, ssh_user, ssh_port, base_path, status, "
        "created_at, updated_at) VALUES ('node_1', 't1', 'cld_1', 'box', 'ssh', '10.0.0.5', 'deploy', 22, '/srv/agents', "
        "'new', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "INSERT INTO fleet_agents (id, tenant_id, cloud_id, name, skills, created_at, updated_at) "
        "VALUES ('scout', 't1', 'cld_1', 'Scout', '[\"mail-triage\"]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        "INSERT INTO fleet_placements (agent_id, node_id, tenant_id, status, skills, path, provisioned_at, updated_at) "
        "VALUES ('scout', 'node_1', 't1', 'provisioned', '[\"mail-triage\"]', '/srv/agents/scout', "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    ],
    "0006_runs_recent": [
        "INSERT INTO runs (id, tenant_id, agent_id, kind, input, status, subagent_state, created_at, updated_at) "
        "VALUES ('run_2', 't2', 'old-agent', 'message', 'later', 'completed', 'idle', '2026-02-01 00:00:00', "
        "'2026-02-01 00:00:00')",
    ],
    "0007_skill_pins": [
        "INSERT INTO agent_skills (tenant_id, agent_id, name, digest, requires_approval, attached_at, attached_by) "
        "VALUES ('t1', 'old-agent', 'mail-triage', '" + "0" * 64 + "', TRUE, '2026-03-01 00:00:00', 'admin')",
    ],
}
REVISIONS = list(FILL)
FLEET_TABLES = ["fleet_tenants", "fleet_clouds", "fleet_nodes", "fleet_agents", "fleet_placements"]


def _execute(url: str, statements: list[str]) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _count(url: str, table: str) -> int:
    async def run() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return int((await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _round_trip(url: str) -> None:
    """Each release's data survives upgrading to head and rolling back to every older revision."""
    for revision in REVISIONS:
        migrations.upgrade(url, revision)
        _execute(url, FILL[revision])
    migrations.upgrade(url, "head")
    expected = {
        "agents": 1,
        "events": 1,
        "runs": 2,
        "workflow_versions": 1,
        "approvals": 1,
        "prompts": 1,
        "usage_ledger": 1,
        "agent_skills": 1,
        **dict.fromkeys(FLEET_TABLES, 1),
    }
    assert {table: _count(url, table) for table in expected} == expected
    tables_of = {
        "0001_agents": ["agents"],
        "0002_agent_loop": ["events", "runs", "workflows", "workflow_versions"],
        "0003_orchestrator": ["approvals", "prompts"],
        "0004_llm_router": ["usage_ledger"],
        "0005_fleet": FLEET_TABLES,
        "0007_skill_pins": ["agent_skills"],
    }
    for back_to in reversed(REVISIONS[:-1]):
        migrations.downgrade(url, back_to)
        assert migrations.current_revision_sync(url) == back_to
        kept = [t for rev in REVISIONS[: REVISIONS.index(back_to) + 1] for t in tables_of.get(rev, [])]
        assert all(_count(url, table) >= 1 for table in kept), (back_to, kept)
        if REVISIONS.index(back_to) < REVISIONS.index("0005_fleet"):
            assert not set(FLEET_TABLES) & _tables(url), back_to  # the rollback removed them
        if REVISIONS.index(back_to) < REVISIONS.index("0007_skill_pins"):
            assert "agent_skills" not in _tables(url), back_to
    # Forward again: what the oldest schema held is still there (later tables come back empty).
    migrations.upgrade(url, "head")
    assert _count(url, "agents") == 1 and _count(url, "runs") == 0
    assert all(_count(url, table) == 0 for table in FLEET_TABLES)
    assert _count(url, "agent_skills") == 0  # no backfill: skills are re-attached to be trusted


def test_upgrade_and_rollback_keep_rows_on_sqlite(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


def test_upgrade_and_rollback_keep_rows_on_postgresql() -> None:
    with fresh_pg_database("talkative_migrate") as url:
        _round_trip(url)


def test_every_migration_has_a_downgrade() -> None:
    import ast

    for path in sorted((Path(migrations.__file__).parent / "versions").glob("*.py")):
        tree = ast.parse(path.read_text())
        downgrade = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "downgrade")
        assert not (len(downgrade.body) == 1 and isinstance(downgrade.body[0], ast.Pass)), (
            f"{path.name} has no downgrade"
        )


def test_the_shipped_head_read_from_the_files_is_alembics() -> None:
    assert migrations.shipped_head() == migrations.head_revision()


def test_current_revision_without_alembic(sqlite_url: str) -> None:
    assert migrations.current_revision_sync(sqlite_url) is None
    migrations.upgrade(sqlite_url, "0002_agent_loop")
    assert migrations.current_revision_sync(sqlite_url) == "0002_agent_loop"
    assert not asyncio.run(migrations.is_current(sqlite_url))
    migrations.upgrade(sqlite_url)
    assert asyncio.run(migrations.is_current(sqlite_url))


SERVE_WITHOUT_ALEMBIC = """
import asyncio, sys
import talkative.cli, talkative.ops.pidfile  # what `talkative serve` loads besides the app
from talkative.main import create_app
from talkative.settings import get_settings

async def main():
    app = create_app(get_settings())
    async with app.router.lifespan_context(app):
        print(app.state.schema_revision)

asyncio.run(main())
print("alembic" in sys.modules, "mako" in sys.modules)
"""


def test_the_server_never_loads_alembic_once_a_child_migrated(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite+aiosqlite:///{data_dir / 'talkative.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TALKATIVE_", "AUTH_"))},
        "TALKATIVE_DATA_DIR": str(data_dir),
        "AUTH_JWT_SECRET": TEST_SECRET,
    }
    child = subprocess.run(
        [sys.executable, "-m", "talkative.migrations"], input=url, text=True, capture_output=True, env=env
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == migrations.shipped_head()
    server = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_ALEMBIC], text=True, capture_output=True, env=env
    )
    assert server.returncode == 0, server.stderr
    assert server.stdout.split() == [migrations.shipped_head(), "False", "False"]


def test_a_failing_migration_child_reports_why() -> None:
    child = subprocess.run(
        [sys.executable, "-m", "talkative.migrations"],
        input="sqlite+aiosqlite:////nonexistent-dir/for/sure/x.db",
        text=True,
        capture_output=True,
    )
    assert child.returncode != 0 and "unable to open database file" in child.stderr


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.exec_driver_sql(sql)).all()]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tenant_identity_up_and_down(url: str) -> None:
    """0008 keys agents by (tenant, id), keeps stored workspaces, and its downgrade says what blocks it."""
    migrations.upgrade(url, "0007_skill_pins")
    for revision in REVISIONS:
        _execute(url, FILL[revision])
    migrations.upgrade(url, "0008_tenant_identity")
    # The existing agent keeps its workspace path as stored; its workflow, versions and events stay.
    assert _rows(url, "SELECT tenant_id, id, workspace FROM agents") == [
        ("t1", "old-agent", "workspaces/old-agent")
    ]
    assert _count(url, "workflow_versions") == 1 and _count(url, "events") == 1
    assert _count(url, "fleet_placements") == 1 and _count(url, "fleet_agents") == 1
    # Fleet agents too: another tenant's `scout`, placed on its own node.
    _execute(
        url,
        [
            "INSERT INTO fleet_nodes (id, tenant_id, name, mode, status, created_at, updated_at) "
            "VALUES ('node_2', 't2', 'here', 'local', 'new', '2026-03-01 00:00:00', '2026-03-01 00:00:00')",
            "INSERT INTO fleet_agents (id, tenant_id, name, skills, created_at, updated_at) "
            "VALUES ('scout', 't2', 'Scout', '[]', '2026-03-01 00:00:00', '2026-03-01 00:00:00')",
            "INSERT INTO fleet_placements (agent_id, node_id, tenant_id, status, skills, updated_at) "
            "VALUES ('scout', 'node_2', 't2', 'provisioned', '[]', '2026-03-01 00:00:00')",
        ],
    )
    # A second tenant may now use the same id (and the same workflow agent id), not the same workspace twice.
    _execute(
        url,
        [
            "INSERT INTO agents (id, tenant_id, name, status, heartbeat_minutes, workspace, created_at, updated_at) "
            "VALUES ('old-agent', 't2', 'Twin', 'stopped', 30, 'workspaces/t2/old-agent', '2026-03-01 00:00:00', "
            "'2026-03-01 00:00:00')",
            "INSERT INTO workflows (id, tenant_id, agent_id, name, version, created_at, updated_at) "
            "VALUES ('agent-wf-old-agent-abc123', 't2', 'old-agent', 'Twin workflow', 0, '2026-03-01 00:00:00', "
            "'2026-03-01 00:00:00')",
        ],
    )
    with pytest.raises(Exception, match=r"uq_agents_tenant_workspace|UNIQUE constraint failed"):
        _execute(
            url,
            [
                "INSERT INTO agents (id, tenant_id, name, status, heartbeat_minutes, workspace, created_at, "
                "updated_at) VALUES ('other', 't2', 'Other', 'stopped', 30, 'workspaces/t2/old-agent', "
                "'2026-03-01 00:00:00', '2026-03-01 00:00:00')"
            ],
        )
    # Down: refused, with the reason, while two tenants share an id; done once they no longer do.
    with pytest.raises(RuntimeError, match=r"agent ids used by several tenants .*: old-agent"):
        migrations.downgrade(url, "0007_skill_pins")
    assert migrations.current_revision_sync(url) == "0008_tenant_identity"
    _execute(
        url, ["DELETE FROM workflows WHERE tenant_id = 't2'", "DELETE FROM agents WHERE tenant_id = 't2'"]
    )
    with pytest.raises(RuntimeError, match=r"fleet agent ids used by several tenants .*: scout"):
        migrations.downgrade(url, "0007_skill_pins")
    # Deleting the fleet agent takes its placement with it (the composite key cascades).
    _execute(url, ["DELETE FROM fleet_agents WHERE tenant_id = 't2'"])
    assert _count(url, "fleet_placements") == 1
    migrations.downgrade(url, "0007_skill_pins")
    assert _count(url, "fleet_placements") == 1
    assert _rows(url, "SELECT tenant_id, id, workspace FROM agents") == [
        ("t1", "old-agent", "workspaces/old-agent")
    ]
    assert _count(url, "workflow_versions") == 1 and _count(url, "workflows") == 1
    migrations.upgrade(url, "0008_tenant_identity")
    assert _count(url, "workflow_versions") == 1


def test_tenant_identity_up_and_down_on_sqlite(sqlite_url: str) -> None:
    _tenant_identity_up_and_down(sqlite_url)


def test_tenant_identity_up_and_down_on_postgresql() -> None:
    with fresh_pg_database("talkative_migrate") as url:
        _tenant_identity_up_and_down(url)


_RUN = (
    "INSERT INTO runs (id, tenant_id, agent_id, kind, input, status, subagent_state, created_at, updated_at) "
    "VALUES ('{id}', 't1', 'a', 'message', '', '{status}', 'idle', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)
_STEP = (
    "INSERT INTO run_steps (run_id, idx, kind, name, spec, status, attempts) "
    "VALUES ('{run}', {idx}, 'task', 'x', '{{}}', '{status}', 0)"
)
_APPROVAL = (
    "INSERT INTO approvals (id, tenant_id, agent_id, run_id, reason, status, requested_at, decided_by) "
    "VALUES ('{id}', 't1', 'a', NULL, 'r', '{status}', '2026-01-01 00:00:00', {by})"
)


def _rejected_runs_up_and_down(url: str) -> None:
    """0014 marks completed runs with a rejected step `rejected`, names `system` on cancelled
    approvals nobody was recorded ending, and its downgrade makes those runs completed again."""
    migrations.upgrade(url, "0013_event_history")
    _execute(
        url,
        [
            _RUN.format(id="run_rej", status="completed"),
            _STEP.format(run="run_rej", idx=0, status="done"),
            _STEP.format(run="run_rej", idx=1, status="rejected"),
            _RUN.format(id="run_ok", status="completed"),
            _STEP.format(run="run_ok", idx=0, status="done"),
            _RUN.format(id="run_failed", status="failed"),
            _STEP.format(run="run_failed", idx=0, status="rejected"),
            _APPROVAL.format(id="apr_c", status="cancelled", by="NULL"),
            _APPROVAL.format(id="apr_a", status="approved", by="'ana'"),
            _APPROVAL.format(id="apr_p", status="pending", by="NULL"),
        ],
    )
    migrations.upgrade(url, "0014_rejected_runs")
    statuses = {r[0]: r[1] for r in _rows(url, "SELECT id, status FROM runs")}
    assert statuses == {"run_rej": "rejected", "run_ok": "completed", "run_failed": "failed"}
    deciders = {r[0]: r[1] for r in _rows(url, "SELECT id, decided_by FROM approvals")}
    assert deciders == {"apr_c": "system", "apr_a": "ana", "apr_p": None}
    migrations.downgrade(url, "0013_event_history")
    assert {r[0]: r[1] for r in _rows(url, "SELECT id, status FROM runs")}["run_rej"] == "completed"


def test_rejected_runs_up_and_down_on_sqlite(sqlite_url: str) -> None:
    _rejected_runs_up_and_down(sqlite_url)


def test_rejected_runs_up_and_down_on_postgresql() -> None:
    with fresh_pg_database("talkative_migrate") as url:
        _rejected_runs_up_and_down(url)
