"""The write quota: a run may add only so much to its workspace, and the excess is removed."""

from __future__ import annotations

import os
from pathlib import Path

from talkative.tools.schemas import MiB, ToolErrorCode, ToolLimits
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript

KiB = 1024

# Writes `count` files of `size` bytes into outputs/flood/ as fast as it can, then reports ok.
FLOOD = """
import json, os, sys
count, size = int(sys.argv[1]), int(sys.argv[2])
os.makedirs("outputs/flood", exist_ok=True)
chunk = b"x" * size
for index in range(count):
    with open(f"outputs/flood/{index:06d}.bin", "wb") as handle:
        handle.write(chunk)
print(json.dumps({"ok": True}))
"""


def used(workspace: Path, *dirs: str) -> tuple[int, int]:
    """Bytes and entries under the given workspace dirs (files and folders)."""
    total = entries = 0
    for sub in dirs:
        for directory, folders, files in os.walk(workspace / sub):
            entries += len(folders) + len(files)
            total += sum((Path(directory) / name).lstat().st_size for name in files)
    return total, entries


def earlier_output(workspace: Path) -> Path:
    path = workspace / "outputs" / "earlier.json"
    path.write_text('{"kept": true}')
    return path


async def test_many_small_files_stop_the_run_and_the_excess_is_removed(
    workspace: Path, write_script: WriteScript
) -> None:
    earlier = earlier_output(workspace)
    limits = ToolLimits(write_quota_bytes=1 * MiB, file_size_bytes=64 * KiB)

    # 2000 files of 64 KiB (125 MiB) when each file is capped: only their number is unbounded.
    result = await run_tool(workspace=workspace, command=write_script("flood.py", FLOOD) + " 2000 65536",
                            limits=limits)  # fmt: skip

    assert not result.ok
    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA, result.error
    assert "1048576" in result.error.message or "1 MiB" in result.error.message
    added, _ = used(workspace, "outputs/flood")
    assert added <= 1 * MiB
    assert result.removed and all(path.startswith("outputs/flood/") for path in result.removed)
    assert earlier.read_text() == '{"kept": true}'
    assert (workspace / "inputs" / "inbox.json").read_text() == "[]"
    assert result.metrics.written_bytes > 1 * MiB  # what it wrote, before the excess went
    assert set(result.artifacts).isdisjoint(result.removed)


async def test_the_number_of_files_is_bounded_too(workspace: Path, write_script: WriteScript) -> None:
    earlier = earlier_output(workspace)
    limits = ToolLimits(write_quota_files=100)

    result = await run_tool(workspace=workspace, command=write_script("flood.py", FLOOD) + " 3000 0",
                            limits=limits)  # fmt: skip

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA, result.error
    _, entries = used(workspace, "outputs/flood")
    assert entries + 1 <= 100  # the folder itself is one of the run's entries
    assert earlier.exists()


async def test_a_run_that_ends_before_the_watchdog_looks_is_still_caught(
    workspace: Path, write_script: WriteScript
) -> None:
    # One burst well under the watchdog's interval, then exit 0: the check after the run finds it.
    limits = ToolLimits(write_quota_bytes=100 * KiB)

    result = await run_tool(workspace=workspace, command=write_script("flood.py", FLOOD) + " 40 8192",
                            limits=limits)  # fmt: skip

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA
    added, _ = used(workspace, "outputs/flood")
    assert added <= 100 * KiB
    kept = sorted(p.name for p in (workspace / "outputs" / "flood").iterdir())
    # The first files written are kept, the later ones removed.
    assert kept == [f"{index:06d}.bin" for index in range(len(kept))]
    assert len(kept) == 12


async def test_the_workspace_quota_counts_what_is_already_there(
    workspace: Path, write_script: WriteScript
) -> None:
    (workspace / "inputs" / "big.bin").write_bytes(b"i" * (700 * KiB))
    limits = ToolLimits(write_quota_bytes=10 * MiB, workspace_quota_bytes=1 * MiB)

    result = await run_tool(workspace=workspace, command=write_script("flood.py", FLOOD) + " 100 65536",
                            limits=limits)  # fmt: skip

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA
    total, _ = used(workspace, ".")
    assert total <= 1 * MiB
    assert (workspace / "inputs" / "big.bin").stat().st_size == 700 * KiB


async def test_a_full_workspace_runs_nothing(workspace: Path, write_script: WriteScript) -> None:
    (workspace / "inputs" / "big.bin").write_bytes(b"i" * (300 * KiB))
    command = write_script("flood.py", FLOOD) + " 1 10"
    limits = ToolLimits(workspace_quota_bytes=256 * KiB)

    result = await run_tool(workspace=workspace, command=command, limits=limits)

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA
    assert "workspace" in result.error.message
    assert result.exit_code is None
    assert not (workspace / "outputs" / "flood").exists()


async def test_a_run_within_its_quota_keeps_everything(workspace: Path, write_script: WriteScript) -> None:
    limits = ToolLimits(write_quota_bytes=1 * MiB, write_quota_files=50)

    result = await run_tool(workspace=workspace, command=write_script("flood.py", FLOOD) + " 10 1000",
                            limits=limits)  # fmt: skip

    assert result.ok, result.error
    assert result.removed == []
    assert len(result.artifacts) == 10
    assert result.metrics.written_bytes >= 10 * 1000
    assert result.metrics.written_files == 11  # ten files and their folder


async def test_one_file_larger_than_the_allowance_is_cut_at_it(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("big.py", "open('outputs/big.bin', 'wb').write(b'x' * (1024 * 1024))\n")

    result = await run_tool(
        workspace=workspace, command=command, limits=ToolLimits(write_quota_bytes=100 * KiB)
    )

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA, result.error
    assert (workspace / "outputs" / "big.bin").stat().st_size <= 100 * KiB


async def test_a_file_grown_past_the_quota_is_cut_back_to_its_size_before_the_run(
    workspace: Path, write_script: WriteScript
) -> None:
    log = workspace / "inputs" / "log.txt"
    log.write_text("earlier line\n")
    command = write_script(
        "append.py",
        """
        import time
        with open("outputs/first.bin", "wb") as handle:
            handle.write(b"f" * 600 * 1024)
        time.sleep(0.02)  # a later mtime than first.bin's, whatever the clock's tick
        with open("inputs/log.txt", "a") as handle:
            handle.write("x" * 600 * 1024)
        """,
    )

    result = await run_tool(
        workspace=workspace, command=command, limits=ToolLimits(write_quota_bytes=1 * MiB)
    )

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA, result.error
    assert log.read_text() == "earlier line\n"
    assert result.removed == ["inputs/log.txt"]
    assert (workspace / "outputs" / "first.bin").stat().st_size == 600 * 1024


async def test_a_file_stopped_at_the_allowance_is_a_write_quota_failure(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("grow.py", "open('inputs/inbox.json', 'a').write('x' * 2 * 1024 * 1024)\n")

    result = await run_tool(
        workspace=workspace, command=command, limits=ToolLimits(write_quota_bytes=1 * MiB)
    )

    assert result.error is not None and result.error.code is ToolErrorCode.WRITE_QUOTA, result.error
    assert (workspace / "inputs" / "inbox.json").stat().st_size <= 1 * MiB
