"""`talkative release-notes --since REV` against a real temporary git repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import SERVER_ENV_KEYS

VERSIONS = Path("src/talkative/migrations/versions")
MIGRATION = '''"""{name}"""
revision = "{revision}"
down_revision = {parent}


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def commit(repo: Path, subject: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject)
    return git(repo, "rev-parse", "HEAD").strip()


def migration(revision: str, parent: str | None) -> dict[str, str]:
    return {
        str(VERSIONS / f"2026_{revision}.py"): MIGRATION.format(
            name=revision, revision=revision, parent=repr(parent) if parent else "None"
        )
    }


def release_notes(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_KEYS)}
    return subprocess.run(
        [sys.executable, "-m", "talkative", "release-notes", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Release v1 at schema 0002_runs; then a feature with a migration, a fix and a docs change."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "first release", {**migration("0001_agents", None), "README.md": "hi\n"})
    commit(root, "runs: the runs table", migration("0002_runs", "0001_agents"))
    git(root, "tag", "v1")
    commit(root, "approvals: a decision endpoint", {**migration("0003_approvals", "0002_runs")})
    commit(root, "approvals: audit who decided", {"src/talkative/approvals.py": "x = 1\n"})
    commit(root, "auth: shorter token lifetime", {"src/talkative/auth/tokens.py": "TTL = 1\n"})
    commit(root, "Fix a typo in the README", {"README.md": "hello\n"})
    return root


def test_notes_fill_the_runbook_template(repo: Path, tmp_path: Path) -> None:
    pytest_log = tmp_path / "make-test.log"
    pytest_log.write_text(
        "tests/a.py ....\nRequired test coverage of 89% reached. Total coverage: 90.12%\n"
        "=========== 1203 passed, 4 deselected in 301.55s (0:05:01) ===========\n"
    )
    summary = tmp_path / "release-check.json"
    summary.write_text(
        json.dumps(
            {
                "ok": False,
                "steps": [
                    {"name": "tests", "result": "pass", "duration_s": 300.5, "detail": ""},
                    {"name": "check", "result": "FAIL", "duration_s": 1.25, "detail": "2 findings"},
                ],
            }
        )
    )
    done = release_notes(
        "--since",
        "v1",
        "--version",
        "1.1.0",
        "--validation",
        str(pytest_log),
        "--validation",
        str(summary),
        cwd=repo,
    )
    assert done.returncode == 0, done.stderr
    notes = done.stdout
    head = git(repo, "rev-parse", "HEAD").strip()
    v1 = git(repo, "rev-parse", "v1").strip()
    assert notes.startswith("# Release 1.1.0\n")
    assert f"- **Release:** 1.1.0 (commit `{head[:12]}`)" in notes
    assert "- **Date (UTC):** 20" in notes and "Z\n" in notes
    assert "4 commits" in notes
    scope = notes.split("## Scope")[1].split("## Risk")[0]
    assert scope.index("**approvals**") < scope.index("- approvals: a decision endpoint")
    assert "- approvals: audit who decided" in scope and "**auth**" in scope
    assert scope.index("**other**") > scope.index("**auth**")  # the ungrouped come last
    assert "- Fix a typo in the README" in scope.split("**other**")[1]
    assert "first release" not in scope and "the runs table" not in scope  # before v1
    risk = notes.split("## Risk")[1].split("## Validation")[0]
    assert "**Level: high**" in risk
    assert "2026_0003_approvals.py" in risk and "from `0002_runs` to `0003_approvals`" in risk
    assert "authentication code changed" in risk
    validation = notes.split("## Validation")[1].split("## Rollback")[0]
    assert "=========== 1203 passed, 4 deselected in 301.55s (0:05:01) ===========" in validation
    assert "Required test coverage of 89% reached" in validation
    assert "tests: pass (300.5 s)" in validation and "check: FAIL (1.2 s) - 2 findings" in validation
    rollback = notes.split("## Rollback")[1]
    assert f"previous revision (build): `{v1[:12]}` (v1)" in rollback
    assert "schema revision to roll back to: `0002_runs` (`talkative migrate 0002_runs`" in rollback


def test_a_release_without_migrations_is_lower_risk_and_says_what_is_left_to_fill(repo: Path) -> None:
    since = git(repo, "rev-parse", "HEAD~1").strip()
    done = release_notes("--since", since[:8], cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# Release {git(repo, 'rev-parse', 'HEAD').strip()[:12]}\n")
    assert "**Level: low**" in done.stdout and "no schema, dependency" in done.stdout
    assert "make test: (not given; pass --validation FILE)" in done.stdout
    assert "schema revision to roll back to: `0003_approvals`" in done.stdout


def test_a_revision_before_any_migration_rolls_back_to_base(tmp_path: Path) -> None:
    root = tmp_path / "young"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "readme", {"README.md": "x\n"})
    commit(root, "agents: the first table", migration("0001_agents", None))
    done = release_notes("--since", "HEAD~1", "--repo", str(root), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "schema revision to roll back to: `base`" in done.stdout
    assert "from `base` to `0001_agents`" in done.stdout


def test_clear_errors_without_tracebacks(repo: Path, tmp_path: Path) -> None:
    unknown = release_notes("--since", "v0.9-never", cwd=repo)
    assert unknown.returncode == 1
    assert "unknown revision 'v0.9-never'" in unknown.stderr and "Traceback" not in unknown.stderr
    outside = tmp_path / "not-a-checkout"
    outside.mkdir()
    elsewhere = release_notes("--since", "v1", cwd=outside)
    assert elsewhere.returncode == 1
    assert "is not a git checkout" in elsewhere.stderr and "Traceback" not in elsewhere.stderr
    missing = release_notes("--since", "v1", "--validation", str(tmp_path / "nope.log"), cwd=repo)
    assert missing.returncode == 1 and "nope.log does not exist" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    wrong = release_notes("--since", "v1", "--validation", str(bad), cwd=repo)
    assert wrong.returncode == 1 and "is not a `make release-check` JSON summary" in wrong.stderr
