"""`talkative check` as an operator runs it, beside the running server: a table and exit code 0
on a healthy database, the findings and exit code 1 on a corrupted one, `--json` for machines."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass

import httpx

from talkative.settings import Settings
from tests.factories import Auth
from tests.integrity import planted


@dataclass(frozen=True)
class Done:
    code: int | None
    stdout: str
    stderr: str


async def talkative_check(settings: Settings, *args: str) -> Done:
    env = {
        **os.environ,
        "TALKATIVE_DATA_DIR": str(settings.data_dir),
        "TALKATIVE_DATABASE_URL": settings.resolved_database_url,
        "TALKATIVE_LOG_FORMAT": "text",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "talkative", "check", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return Done(process.returncode, out.decode(), err.decode())


async def test_check_passes_then_names_what_it_finds(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    history = await planted.build_history(client, auth)
    healthy = await talkative_check(settings)
    assert healthy.code == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.startswith("integrity check passed: ") and "no finding" in healthy.stdout

    await planted.missing_workspace(settings.workspaces_dir)
    held = await planted.held_reservation_of_finished_run(settings.resolved_database_url, history)
    table = await talkative_check(settings)
    assert table.code == 1, table.stdout + table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["check", "severity", "subjects", "detail"]
    assert lines[-1].startswith("integrity check failed: 2 finding(s)")
    rows = [line.split()[:2] for line in lines[1:-1]]
    assert rows == [["reservation_held_by_finished_run", "error"], ["workspace_missing", "error"]]
    assert " ".join(held) in table.stdout and "tenant-a alpha" in table.stdout

    machine = await talkative_check(settings, "--json")
    assert machine.code == 1, machine.stderr
    report = json.loads(machine.stdout)
    assert report["ok"] is False and report["engine"] in ("sqlite", "postgresql")
    assert [(f["check"], f["subjects"]) for f in report["findings"]] == [
        ("reservation_held_by_finished_run", list(held)),
        ("workspace_missing", ["tenant-a", "alpha"]),
    ]
    assert "workspace_shared" in report["checks"] and report["finished_at"] > 0


async def test_check_without_a_database_says_so(settings: Settings) -> None:
    if settings.resolved_database_url.startswith("postgresql"):
        settings = settings.model_copy(
            update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none", "db_timeout_s": 2}
        )
    done = await talkative_check(settings)
    assert done.code == 1 and done.stdout == ""
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("error: "), done.stderr  # one line, no traceback
    assert ("no SQLite database at" in said[0]) or ("cannot read the database: " in said[0])
