"""`make release-check` (scripts/release_check.py): its cheap steps for real (a clean tree, the
migrations up and down on a copy of a data dir, seeded through a real server when none is given),
the integrity check through `--check-command` (a stand-in that records what it was given), and
the summary table and exit code when a step fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from talkative import migrations
from talkative.settings import Settings
from tests.conftest import TEST_SECRET
from tests.e2e.server import SERVER_ENV_KEYS

ROOT = Path(__file__).resolve().parents[2]
CHEAP = ["--skip", "tests", "--skip", "e2e", "--skip", "build"]
STAND_IN_CHECK = """
import os, sys
from pathlib import Path
data = Path(os.environ["TALKATIVE_DATA_DIR"])
Path(sys.argv[1]).write_text(str(data))
print("checked", data, "has talkative.db:", (data / "talkative.db").is_file())
sys.exit(int(sys.argv[2]))
"""


def release_check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_KEYS)}
    env["TMPDIR"] = str(cwd)  # its work dir, kept after a failure, goes with the test's tmp_path
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release_check.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def git_repo(path: Path, *, dirty: bool) -> Path:
    path.mkdir()
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (path / "README.md").write_text("released\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "release"], check=True)
    if dirty:
        (path / "forgotten.py").write_text("x = 1\n")
    return path


def check_command(tmp_path: Path, exit_code: int) -> tuple[str, Path]:
    script = tmp_path / "stand_in_check.py"
    script.write_text(STAND_IN_CHECK)
    seen = tmp_path / "checked-data-dir"
    return f"{sys.executable} {script} {seen} {exit_code}", seen


def rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in output.splitlines() if line.split()[:1]}


def test_the_cheap_steps_pass_on_a_fresh_seeded_data_dir(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", dirty=False)
    command, seen = check_command(tmp_path, 0)
    summary = tmp_path / "summary.json"
    done = release_check(
        *CHEAP, "--repo", str(repo), "--check-command", command, "--json-out", str(summary), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = rows(done.stdout)
    assert table["step"][:3] == ["result", "duration", "detail"]
    assert table["clean-tree"][0] == "pass"
    for skipped in ("tests", "e2e", "build"):
        assert table[skipped][0] == "skipped"
    head = migrations.shipped_head()
    assert table["migrations"][0] == "pass"
    assert "a fresh data dir seeded through the API" in done.stdout
    assert f"{head} -> {head} -> " in done.stdout  # seeded at head, rolled back one, up again
    assert table["check"][0] == "pass"
    assert "release check: passed" in done.stdout
    checked = Path(seen.read_text())
    assert checked.name == "data" and checked.parent.name.startswith("talkative-release-check-")
    assert not checked.exists(), "the work dir is removed after a passing run"
    steps = json.loads(summary.read_text())
    assert steps["ok"] is True
    assert [(s["name"], s["result"]) for s in steps["steps"]] == [
        ("clean-tree", "pass"),
        ("tests", "skipped"),
        ("e2e", "skipped"),
        ("build", "skipped"),
        ("migrations", "pass"),
        ("check", "pass"),
    ]


def test_failing_steps_show_in_the_table_and_exit_nonzero(tmp_path: Path) -> None:
    data_dir = tmp_path / "production-copy"
    settings = Settings(TALKATIVE_DATA_DIR=data_dir, AUTH_JWT_SECRET=TEST_SECRET)
    data_dir.mkdir()
    migrations.upgrade(settings.resolved_database_url, "0013_event_history")
    repo = git_repo(tmp_path / "repo", dirty=True)
    command, seen = check_command(tmp_path, 1)
    done = release_check(
        *CHEAP, "--data", str(data_dir), "--repo", str(repo), "--check-command", command, cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    table = rows(done.stdout)
    assert table["clean-tree"][0] == "FAIL"
    assert "1 uncommitted changes: forgotten.py" in done.stdout
    head = migrations.shipped_head()
    assert table["migrations"][0] == "pass"
    assert f"0013_event_history -> {head} -> 0013_event_history -> {head}" in done.stdout
    assert table["check"][0] == "FAIL" and "exited 1" in done.stdout
    assert "release check: FAILED (clean-tree, check)" in done.stdout
    # The check ran on the copy, which is kept with the logs; the data given was not touched.
    copy = Path(seen.read_text())
    assert copy != data_dir and (copy / "talkative.db").is_file() and copy.parent.parent == tmp_path
    assert f"work dir kept (logs, data dir copy, build): {copy.parent}" in done.stdout
    assert migrations.current_revision_sync(settings.resolved_database_url) == "0013_event_history"


def test_a_data_dir_without_a_database_fails_the_migrations_and_the_check(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    repo = git_repo(tmp_path / "repo", dirty=False)
    done = release_check(*CHEAP, "--data", str(empty), "--repo", str(repo), cwd=tmp_path)
    assert done.returncode == 1
    table = rows(done.stdout)
    assert table["migrations"][0] == "FAIL" and "holds no talkative.db" in done.stdout
    assert table["check"][0] == "FAIL" and "the migrations step did not run" in done.stdout
