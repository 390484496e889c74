"""`talkative restore`: puts a backup archive (ops/backup.py) back in place of the data dir's contents."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from talkative import __version__, migrations
from talkative.auth.secrets import SECRET_FILE_NAME
from talkative.db import is_sqlite
from talkative.ops import dumps
from talkative.ops.backup import (
    MANIFEST,
    PG_MEMBER,
    SQLITE_MEMBER,
    WORKSPACES_MEMBER,
    DatabaseKind,
    Manifest,
    RestoreSummary,
)
from talkative.ops.dumps import BackupError
from talkative.ops.pidfile import running_server_pid
from talkative.settings import Settings


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r:gz") as tar:
            return _manifest_of(tar)
    except FileNotFoundError:
        raise BackupError(f"no archive at {path}") from None
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path} is not a readable .tar.gz archive ({exc})") from None


def _manifest_of(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(f"the archive has no {MANIFEST}; it was not made by `talkative backup`") from None
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"the archive's {MANIFEST} is not a regular file")
    return Manifest.parse(handle.read())


def check_revision_known(revision: str) -> None:
    """Refuse a revision this code does not know: the archive comes from a newer Talkative."""
    scripts = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
    try:
        found = scripts.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise BackupError(
            f"the archive's schema revision {revision!r} is not known to this Talkative "
            f"(version {__version__}, newest revision {migrations.head_revision()}); it was made by a newer "
            "version: restore it with that version, or upgrade this one first"
        )


def restore_backup(settings: Settings, path: Path, *, force: bool = False) -> RestoreSummary:
    path = path.expanduser().absolute()
    manifest = read_manifest(path)
    check_revision_known(manifest.schema_revision)
    url = settings.resolved_database_url
    kind: DatabaseKind = "sqlite" if is_sqlite(url) else "postgresql"
    if manifest.database != kind:
        raise BackupError(
            f"the archive holds a {manifest.database} database but this configuration uses {kind}; "
            "restore it with a matching TALKATIVE_DATABASE_URL"
        )
    data_dir = settings.data_dir
    pid = running_server_pid(data_dir)
    if pid is not None and not force:
        raise BackupError(
            f"a Talkative server (pid {pid}) is running on {data_dir.absolute()}; stop it first, "
            "or pass --force to overwrite its data anyway"
        )
    try:
        return _restore(settings, path, manifest, url, forced_over_pid=pid)
    except (OSError, sqlite3.Error, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"restore failed: {exc}") from None


def _restore(
    settings: Settings, path: Path, manifest: Manifest, url: str, *, forced_over_pid: int | None
) -> RestoreSummary:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with _staging(data_dir) as staging, tarfile.open(path, "r:gz") as tar:
        tar.extractall(staging, filter="data")
        if manifest.database == "sqlite":
            target = dumps.sqlite_path(url)
            _restore_sqlite(staging / SQLITE_MEMBER, target)
            where = str(target)
        else:
            dump = staging / PG_MEMBER
            if not dump.is_file():
                raise BackupError(f"the archive has no {PG_MEMBER}")
            dumps.pg_restore(url, dump)
            where = make_url(url).render_as_string(hide_password=True)
        files = _swap_workspaces(staging / WORKSPACES_MEMBER, settings.workspaces_dir, staging)
        secret_restored = _restore_secret(staging / SECRET_FILE_NAME, data_dir / SECRET_FILE_NAME)
    try:
        with migrations.quiet_alembic():
            migrations.upgrade(url)
        revision_after = migrations.current_revision_sync(url)
    except Exception as exc:  # report, don't trace: the data is restored, the upgrade is not
        raise BackupError(
            f"the data was restored but upgrading its schema failed: {exc}; run `talkative migrate`"
        ) from None
    return RestoreSummary(
        manifest=manifest,
        target=where,
        revision_after=revision_after,
        workspace_files=files,
        secret_restored=secret_restored,
        forced_over_pid=forced_over_pid,
    )


@contextlib.contextmanager
def _staging(data_dir: Path) -> Iterator[Path]:
    # Inside the data dir, so the final moves are renames on one file system.
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore_sqlite(snapshot: Path, target: Path) -> None:
    if not snapshot.is_file():
        raise BackupError(f"the archive has no {SQLITE_MEMBER}")
    conn = sqlite3.connect(snapshot)
    try:
        check = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the archived database is unreadable: {exc}") from None
    finally:
        conn.close()
    if check != ["ok"]:
        raise BackupError(f"the archived database failed its integrity check: {'; '.join(check[:5])}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.restore")
    try:
        shutil.copyfile(snapshot, tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        # A -wal left by the old database would be replayed onto the new one: drop them first.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _swap_workspaces(extracted: Path, target: Path, staging: Path) -> int:
    if not extracted.is_dir():
        extracted.mkdir(parents=True)
    files = sum(1 for p in extracted.rglob("*") if p.is_file())
    old = staging / "workspaces.old"
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(extracted, target)
    except OSError:
        if old.exists() and not target.exists():
            os.replace(old, target)  # put the previous workspaces back
        raise
    return files


def _restore_secret(extracted: Path, target: Path) -> bool:
    if not extracted.is_file():
        return False
    data = extracted.read_bytes()
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, target)
    return True
