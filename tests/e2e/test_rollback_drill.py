"""The runbook's rollback, drilled on SQLite and PostgreSQL with real server processes (issue 18):

1. the previous release (its code, taken from git: the newest commit whose migrations end at the
   revision before the current head) starts on an empty database, migrates it to its own head
   and writes data through its API, the critical loop included;
2. this release starts on that database (migrating it to head at start) and runs the critical loop
   (message -> workflow patch -> events) over the previous release's agent;
3. `talkative migrate <previous revision>` rolls the schema back;
4. the previous release starts again on the rolled-back database, still at its own head: the data
   of both releases is there, and its own `talkative smoke` passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest

from talkative import migrations
from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.ops.release_notes import VERSIONS_PATH, git, schema_head_at
from tests.conftest import TEST_SECRET
from tests.e2e.server import SERVER_ENV_KEYS, ServerProcess
from tests.e2e.sse import SseCollector
from tests.factories.agents import running_agent_sync

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LOOP = ["MESSAGE_RECEIVED", "WORKFLOW_PATCH_APPLIED", "RUN_COMPLETED"]


@dataclass(frozen=True)
class PreviousRelease:
    commit: str
    revision: str
    src: Path  # its src/ folder: PYTHONPATH for its processes


def previous_release_commit() -> tuple[str, str]:
    """The newest commit before the current head migration arrived (first-parent history), and its
    schema head: the code of the release before it, at the revision the runbook rolls back to."""
    head = migrations.shipped_head()
    touching = git(ROOT, "log", "--first-parent", "--format=%H", "HEAD", "--", VERSIONS_PATH).split()
    introduced = None
    for commit in touching:
        if schema_head_at(ROOT, commit) != head:
            break
        introduced = commit
    assert introduced is not None, f"no commit of {ROOT} holds the migrations' head {head} (history missing?)"
    previous = git(ROOT, "rev-parse", f"{introduced}^1").strip()
    revision = schema_head_at(ROOT, previous)
    assert revision is not None
    return previous, revision


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> PreviousRelease:
    commit, revision = previous_release_commit()
    assert (
        migrations.revisions_of({p.name: p.read_text() for p in migrations.VERSIONS_DIR.glob("*.py")})[
            migrations.shipped_head()
        ]
        == revision
    ), "the previous release is one migration behind"
    root = tmp_path_factory.mktemp("previous-release")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src/talkative"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return PreviousRelease(commit=commit, revision=revision, src=root / "src")


def token(role: Role = Role.OPERATOR, tenant: str | None = "acme") -> str:
    return mint_token(secret=TEST_SECRET, sub="drill", role=role, tenant_id=tenant, ttl=timedelta(hours=1))


def client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token()}"}, timeout=60)


def schema_of(server: ServerProcess) -> str:
    revision: str = httpx.get(f"{server.url}/health", timeout=10).json()["schema_revision"]
    return revision


def message(http: httpx.Client, agent_id: str, text: str) -> dict[str, Any]:
    reply = http.post(f"/agents/{agent_id}/message", json={"message": text})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert body["run_status"] == "completed", body
    return body


def talkative_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_KEYS)}
    return subprocess.run(
        [sys.executable, "-m", "talkative", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def started() -> Iterator[list[ServerProcess]]:
    servers: list[ServerProcess] = []
    yield servers
    for server in servers:
        server.stop()


def test_rollback_drill(
    empty_database: str, previous_release: PreviousRelease, tmp_path: Path, started: list[ServerProcess]
) -> None:
    data_dir = tmp_path / "data"
    db_env = {"TALKATIVE_DATABASE_URL": empty_database, "AUTH_JWT_SECRET": TEST_SECRET}
    previous_env = {**db_env, "PYTHONPATH": str(previous_release.src)}
    head = migrations.shipped_head()

    # 1. The previous release writes its data.
    old = ServerProcess(data_dir=data_dir, env=previous_env)
    started.append(old.start())
    assert schema_of(old) == previous_release.revision
    with client(old) as http:
        running_agent_sync(http, "veteran")
        first = message(http, "veteran", "triage inbox now")
        version_before = http.get("/agents/veteran/workflow").json()["version"]
    old.stop()

    # 2. The new release migrates it at start and runs the critical loop over the old agent.
    new = ServerProcess(data_dir=data_dir, env=db_env)
    started.append(new.start())
    assert schema_of(new) == head
    with client(new) as http:
        assert http.get(f"/orchestrator/runs/{first['run_id']}").json()["status"] == "completed"
        with SseCollector(new.url, token()) as stream:
            second = message(http, "veteran", "archive invoices then notify finance")
            streamed = stream.wait_for(
                lambda events: any(
                    e["type"] == "RUN_COMPLETED" and e.get("run_id") == second["run_id"] for e in events
                )
            )
        assert second["workflowPatch"]["version"] == version_before + 1
        assert [e["type"] for e in second["events"] if e["type"] in LOOP] == LOOP
        assert [
            e["type"] for e in streamed if e.get("run_id") == second["run_id"] and e["type"] in LOOP
        ] == LOOP
        running_agent_sync(http, "newcomer")
        message(http, "newcomer", "summarise the week")
    new.stop()

    # 3. The operator rolls the schema back.
    rolled = talkative_cli("migrate", previous_release.revision, env=db_env, cwd=tmp_path)
    assert rolled.returncode == 0, rolled.stderr
    assert f"rolled back from {head}" in rolled.stdout
    assert migrations.current_revision_sync(empty_database) == previous_release.revision

    # 4. The previous release on the rolled-back database: nothing to migrate, everything there.
    again = ServerProcess(data_dir=data_dir, env=previous_env)
    started.append(again.start())
    assert schema_of(again) == previous_release.revision
    with client(again) as http:
        assert {"veteran", "newcomer"} <= {a["id"] for a in http.get("/agents").json()["agents"]}
        workflow = http.get("/agents/veteran/workflow").json()
        assert workflow["version"] == version_before + 1
        assert "Notify finance" in [n["name"] for n in workflow["nodes"]]
        for run_id in (first["run_id"], second["run_id"]):
            assert http.get(f"/orchestrator/runs/{run_id}").json()["status"] == "completed"
        events = http.get("/agents/veteran/events", params={"tail": 100}).json()["events"]
        assert {first["run_id"], second["run_id"]} <= {e["run_id"] for e in events}
        # It still runs its own loop on the data the new release wrote.
        third = message(http, "veteran", "check the calendar")
        assert third["workflowPatch"]["version"] == version_before + 2
    smoke = talkative_cli(
        "smoke", "--url", again.url, "--token", token(Role.ADMIN, None), env=previous_env, cwd=tmp_path
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
