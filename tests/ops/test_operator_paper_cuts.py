"""What a newcomer tripped over in the first hour (issue 18, item 7): what `make run` installs,
`talkative smoke` creating a secret, backup archive names and `__pycache__`, Alembic's log lines,
the packaging warning about the license, and `talkative migrate` to an older revision."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from talkative import migrations
from talkative.ops.backup import create_backup
from talkative.ops.dumps import BackupError
from talkative.settings import Settings
from tests.conftest import TEST_SECRET
from tests.e2e.server import SERVER_ENV_KEYS, free_port

ROOT = Path(__file__).resolve().parents[2]


def talkative(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_KEYS)}
    return subprocess.run(
        [sys.executable, "-m", "talkative", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_dry_run(target: str, venv: Path) -> str:
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_run_installs_the_runtime_only_and_make_test_the_dev_tools(tmp_path: Path) -> None:
    venv = tmp_path / "fresh-venv"  # as in a fresh clone: nothing installed yet
    run = make_dry_run("run", venv)
    assert "pip install --quiet -e '.'" in run
    assert ".[dev]" not in run
    test = make_dry_run("test", venv)
    assert "pip install --quiet -e '.[dev]'" in test
    assert make_dry_run("migrate", venv).count(".[dev]") == 0


def test_smoke_without_a_token_never_creates_a_secret(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = talkative("smoke", "--url", f"http://127.0.0.1:{free_port()}", cwd=elsewhere)
    assert done.returncode == 1
    assert "--token" in done.stderr and "AUTH_JWT_SECRET" in done.stderr
    assert str((elsewhere / "data" / "jwt-secret").absolute()) in done.stderr
    assert "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == [], "nothing written: no data dir, no secret"


def _settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(TALKATIVE_DATA_DIR=data_dir, AUTH_JWT_SECRET=TEST_SECRET)
    migrations.upgrade(settings.resolved_database_url)
    return settings


def test_backup_adds_tar_gz_to_a_bare_name_and_refuses_another_archive_extension(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    summary = create_backup(settings, tmp_path / "backups" / "nightly-2026.12.03")
    assert summary.path == tmp_path / "backups" / "nightly-2026.12.03.tar.gz"
    assert tarfile.is_tarfile(summary.path) and summary.path.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    assert str(summary.path) in summary.render()
    kept = create_backup(settings, tmp_path / "backups" / "named.tar.gz")
    assert kept.path.name == "named.tar.gz"
    for name in ("nightly.zip", "nightly.tgz", "nightly.tar"):
        with pytest.raises(BackupError, match=r"ends in \.tar\.gz.*use e\.g\. .*nightly\.tar\.gz"):
            create_backup(settings, tmp_path / "backups" / name)
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [
        "named.tar.gz",
        "nightly-2026.12.03.tar.gz",
    ]


def test_backup_leaves_pycache_out(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    outputs = settings.workspaces_dir / "acme" / "bot" / "outputs"
    (outputs / "__pycache__").mkdir(parents=True)
    (outputs / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\x00cache")
    (outputs / "report.json").write_text("{}")
    summary = create_backup(settings, tmp_path / "b.tar.gz")
    with tarfile.open(summary.path) as tar:
        names = tar.getnames()
    assert "workspaces/acme/bot/outputs/report.json" in names
    assert not [n for n in names if "__pycache__" in n]
    assert summary.workspace_files == 1


def test_restore_says_in_words_what_it_migrated_without_alembics_log_lines(tmp_path: Path) -> None:
    old = _settings(tmp_path / "old")
    migrations.downgrade(old.resolved_database_url, "0013_event_history")
    archive = create_backup(old, tmp_path / "old.tar.gz").path
    target = tmp_path / "new" / "data"
    target.mkdir(parents=True)
    done = talkative(
        "restore",
        str(archive),
        cwd=tmp_path,
        TALKATIVE_DATA_DIR=str(target),
        AUTH_JWT_SECRET=TEST_SECRET,
        TALKATIVE_LOG_FORMAT="text",  # what a terminal gets
        TALKATIVE_LOG_LEVEL="INFO",
    )
    assert done.returncode == 0, done.stderr
    head = migrations.shipped_head()
    assert f"schema upgraded from revision 0013_event_history to {head}" in done.stdout
    assert "alembic" not in done.stderr, done.stderr
    assert "Running upgrade" not in done.stdout + done.stderr


def test_migrate_rolls_back_to_an_older_revision_and_says_so(tmp_path: Path) -> None:
    env = {"TALKATIVE_DATA_DIR": str(tmp_path / "data"), "TALKATIVE_LOG_LEVEL": "INFO"}
    head = migrations.shipped_head()
    up = talkative("migrate", cwd=tmp_path, **env)
    assert (
        up.returncode == 0 and f"database at revision {head} (upgraded from an empty database)" in up.stdout
    )
    down = talkative("migrate", "0013_event_history", cwd=tmp_path, **env)
    assert down.returncode == 0, down.stderr
    assert f"database at revision 0013_event_history (rolled back from {head})" in down.stdout
    assert "alembic" not in down.stderr
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'talkative.db'}"
    assert migrations.current_revision_sync(url) == "0013_event_history"
    same = talkative("migrate", "0013_event_history", cwd=tmp_path, **env)
    assert "(no migration needed)" in same.stdout
    unknown = talkative("migrate", "0099_nope", cwd=tmp_path, **env)
    assert unknown.returncode == 1 and "cannot migrate to '0099_nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_the_package_builds_without_the_license_deprecation_warning(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "project.license" not in output and "deprecated" not in output.lower(), output
    (sdist,) = tmp_path.glob("talkative-*.tar.gz")
    with tarfile.open(sdist) as tar:
        info = next(m for m in tar.getmembers() if m.name.endswith("/PKG-INFO"))
        handle = tar.extractfile(info)
        assert handle is not None
        metadata = handle.read().decode()
        assert any(m.name.endswith("/LICENSE") for m in tar.getmembers())
    assert "License-Expression: LicenseRef-Proprietary" in metadata
