"""The hostile-skill corpus through the tool runner, as the server runs skills (root here).

Every script is refused or bounded in `required` mode; the non-root run of the same corpus is
test_as_non_root.py, the run through the server as a tenant is test_through_the_server.py.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from talkative.tools.schemas import ToolErrorCode, ToolLimits, ToolResult
from talkative.tools.service import run_tool
from tests.sandbox import corpus

REPO = Path(__file__).resolve().parents[2]
LIMITS = ToolLimits(timeout_s=10, cpu_s=2, memory_bytes=512 * 1024**2, max_processes=32)


async def _run(data: Path, name: str, **targets: object) -> ToolResult:
    workspace = data / "workspaces" / "a"
    path = workspace / "skills" / "demo" / "scripts" / f"{name}.py"
    path.write_text(textwrap.dedent(corpus.script(name, **targets)))
    return await run_tool(
        workspace=workspace,
        command=f"python skills/demo/scripts/{name}.py",
        limits=LIMITS,
        hidden_paths=[data],
    )


def _confined(result: ToolResult) -> None:
    assert result.metrics.isolated and result.metrics.sandbox is not None
    assert result.metrics.sandbox.missing == [] and result.metrics.sandbox.mode == "required"


async def test_no_network_loopback_postgres_or_outside(data_dir: Path, listener: int) -> None:
    result = await _run(data_dir, "network", listener_port=listener)

    assert result.ok, result.stderr
    _confined(result)
    corpus.check_network(corpus.last_json(result.stdout))


def read_paths(data_dir: Path) -> list[str]:
    return [
        "/etc/shadow", "/root/.bash_history", "/root/.ssh/id_ed25519", str(REPO / "pyproject.toml"),
        str(REPO / "src" / "talkative" / "settings.py"), str(data_dir.parent / "fleet-key"),
        str(data_dir / "talkative.db"), str(data_dir / "jwt-secret"),
        str(data_dir / "workspaces" / "b" / "inputs" / "inbox.json"), f"/proc/{os.getpid()}/environ",
    ]  # fmt: skip


async def test_host_files_secrets_and_other_workspaces_cannot_be_read(data_dir: Path) -> None:
    paths = read_paths(data_dir)

    result = await _run(data_dir, "reads", read_paths=paths, data_dir=str(data_dir))

    assert result.ok, result.stderr
    _confined(result)
    seen = corpus.last_json(result.stdout)
    corpus.check_reads(seen, read_paths=paths, uid=65534)
    assert seen[f"ls {data_dir}"] == ["workspaces"] and seen[f"ls {data_dir}/workspaces"] == ["a"]


async def test_only_inputs_outputs_and_scratch_are_writable(data_dir: Path) -> None:
    workspace = data_dir / "workspaces" / "a"
    outside = data_dir.parent / "outside"
    outside.mkdir()

    result = await _run(data_dir, "writes", outside_dir=str(outside), data_dir=str(data_dir))

    assert result.ok, result.stderr
    corpus.check_writes(corpus.last_json(result.stdout))
    assert (
        workspace / "skills" / "other" / "SKILL.md"
    ).read_text() == "name: other\nrequires_approval: true\n"
    assert (workspace / "skills" / "demo" / "SKILL.md").read_text() == "name: demo\nrequires_approval: true\n"
    assert list(outside.iterdir()) == [] and not (data_dir / "pwned").exists()
    assert not (workspace / "planted.py").exists() and (workspace / "outputs" / "report.md").exists()


async def test_no_privileges_no_new_namespaces_no_raw_sockets(data_dir: Path) -> None:
    result = await _run(data_dir, "escape")

    assert result.ok, result.stderr
    corpus.check_escape(corpus.last_json(result.stdout))


async def test_a_fork_bomb_is_bounded_and_leaves_nothing(data_dir: Path) -> None:
    result = await _run(data_dir, "fork_bomb")

    assert not result.ok
    forks = data_dir / "workspaces" / "a" / "outputs" / "forks"
    assert not forks.exists() or int(forks.read_text()) <= LIMITS.max_processes
    await _nothing_left(data_dir)


async def test_memory_and_scratch_hogs_are_bounded(data_dir: Path) -> None:
    memory = await _run(data_dir, "memory_hog")
    scratch = await _run(data_dir, "tmp_hog")

    assert corpus.last_json(memory.stdout) == {"allocated": 0}
    seen = corpus.last_json(scratch.stdout)
    assert seen["error"] == "OSError" and int(seen["written_mb"]) <= 64


async def test_a_cpu_hog_is_killed(data_dir: Path) -> None:
    result = await _run(data_dir, "time_hog")

    # By the CPU limit: the clock would have stopped it as a TIMEOUT.
    assert result.exit_code == -9 and result.error is not None
    assert result.error.code == ToolErrorCode.NONZERO_EXIT
    await _nothing_left(data_dir)


async def test_a_daemon_does_not_outlive_its_run(data_dir: Path) -> None:
    result = await _run(data_dir, "daemon")

    assert result.ok and "parent done" in result.stdout, result.stderr
    outputs = data_dir / "workspaces" / "a" / "outputs"
    assert (outputs / "heartbeat").exists(), "the daemon never started"
    assert corpus.run_is_over(outputs), "the daemon outlived its run"  # so nobody writes it any more
    await _nothing_left(data_dir)


async def _nothing_left(data_dir: Path) -> None:
    from tests.tools.helpers import processes_mentioning, run_processes

    assert processes_mentioning(str(data_dir)) == [] and run_processes(os.getpid()) == []
