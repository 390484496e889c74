"""The shipped templates still work sandboxed: read-only skills/, the sandbox uid, no network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from talkative.skills import catalogue
from talkative.tools.schemas import StepIdentity
from talkative.tools.service import run_tool


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
        capture_output=True, timeout=30,
    )  # fmt: skip


async def test_git_watcher_reads_a_repository_the_server_owns(data_dir: Path) -> None:
    workspace = data_dir / "workspaces" / "a"
    shutil.copytree(catalogue.templates_dir() / "git-watcher", workspace / "skills" / "git-watcher")
    repo = workspace / "project"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Initial import")
    (repo / "a.txt").write_text("changed\n")
    command = "python skills/git-watcher/scripts/watch.py --repo project --out outputs/git-watcher.json"

    result = await run_tool(workspace=workspace, command=command, hidden_paths=[data_dir])

    assert result.ok, result.stderr
    assert result.metrics.isolated and result.skillReport is not None
    data = result.skillReport["data"]
    assert data["isGitRepo"] is True and data["branch"] == "main" and data["dirty"] is True
    assert (workspace / "outputs" / "git-watcher.json").exists()


@pytest.mark.parametrize("name", ["mail-triage", "monthly-bookkeeping"])
async def test_the_other_templates_run_on_their_seeded_inputs(data_dir: Path, name: str) -> None:
    workspace = data_dir / "workspaces" / "a"
    template = catalogue.get_template(name)
    shutil.copytree(catalogue.templates_dir() / name, workspace / "skills" / name)
    for source, target in template.manifest.seed.items():
        shutil.copy(catalogue.templates_dir() / name / source, workspace / target)

    result = await run_tool(workspace=workspace, command=template.manifest.command, hidden_paths=[data_dir])

    assert result.ok, result.stderr
    assert result.metrics.isolated
    assert result.artifacts == [f"outputs/{name}.history.jsonl", f"outputs/{name}.json"]


@pytest.mark.parametrize("name", ["mail-triage", "monthly-bookkeeping"])
async def test_a_step_started_twice_adds_its_history_line_once(data_dir: Path, name: str) -> None:
    workspace = data_dir / "workspaces" / "a"
    template = catalogue.get_template(name)
    shutil.copytree(catalogue.templates_dir() / name, workspace / "skills" / name)
    for source, target in template.manifest.seed.items():
        shutil.copy(catalogue.templates_dir() / name / source, workspace / target)
    history = workspace / "outputs" / f"{name}.history.jsonl"

    async def attempt(key: str, number: int) -> list[str]:
        step = StepIdentity(idempotency_key=key, attempt=number)
        result = await run_tool(
            workspace=workspace, command=template.manifest.command, hidden_paths=[data_dir], step=step
        )
        assert result.ok and result.metrics.isolated, result.stderr
        return result.artifacts

    assert await attempt("run_aaaaaaaaaaaaaaaa:0", 1) == [f"outputs/{history.name}", f"outputs/{name}.json"]
    # The same step again (its worker lost the lease): the report is written anew, the line is not.
    assert await attempt("run_aaaaaaaaaaaaaaaa:0", 2) == [f"outputs/{name}.json"]
    assert len(history.read_text().splitlines()) == 1
    # Another run: its own line.
    await attempt("run_bbbbbbbbbbbbbbbb:0", 1)
    assert len(history.read_text().splitlines()) == 2
