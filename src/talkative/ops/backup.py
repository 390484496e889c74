"""`talkative backup` / `talkative restore`: a consistent snapshot of the database and the workspaces.

The archive is one `.tar.gz`:

    manifest.json            format, created_at, schema_revision, talkative_version, database
    database/talkative.db    SQLite, taken with the online backup API (never a file copy), or
    database/talkative.pgdump  `pg_dump --format=custom` of the configured PostgreSQL database
    workspaces/...           the data dir's workspaces folder
    jwt-secret               only with `--include-secret`

Every expected failure raises `BackupError` with a message meant for a person; the command line
prints it without a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from talkative import __version__, migrations
from talkative.auth.secrets import SECRET_FILE_NAME
from talkative.db import SQLITE_BUSY_TIMEOUT_MS, is_sqlite
from talkative.ops.pidfile import running_server_pid
from talkative.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/talkative.db"
PG_MEMBER = "database/talkative.pgdump"
WORKSPACES_MEMBER = "workspaces"
# Workspace files up to this size are read whole, so one that changes while it is archived is
# stored as one consistent read instead of failing the backup.
_READ_WHOLE_BYTES = 64 * 1024 * 1024

DatabaseKind = Literal["sqlite", "postgresql"]


class BackupError(Exception):
    """An expected failure: the message is shown to the operator as is."""


@dataclass(frozen=True)
class Manifest:
    schema_revision: str
    database: DatabaseKind
    created_at: str
    talkative_version: str
    includes_secret: bool = False
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "created_at": self.created_at,
                "schema_revision": self.schema_revision,
                "talkative_version": self.talkative_version,
                "database": self.database,
                "includes_secret": self.includes_secret,
            },
            indent=2,
        )

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError(f"the archive's {MANIFEST} is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise BackupError(f"the archive's {MANIFEST} is not a JSON object")
        if data.get("format") != FORMAT:
            raise BackupError(
                f"the archive's {MANIFEST} has format {data.get('format')!r}; "
                f"this version reads format {FORMAT}"
            )
        fields = ("created_at", "schema_revision", "talkative_version", "database")
        for name in fields:
            if not isinstance(data.get(name), str) or not data[name]:
                raise BackupError(f"the archive's {MANIFEST} lacks a valid {name!r}")
        database = data["database"]
        if database not in ("sqlite", "postgresql"):
            raise BackupError(f"the archive's {MANIFEST} names an unknown database {database!r}")
        return cls(
            schema_revision=data["schema_revision"],
            database=database,
            created_at=data["created_at"],
            talkative_version=data["talkative_version"],
            includes_secret=bool(data.get("includes_secret", False)),
        )


@dataclass
class BackupSummary:
    path: Path
    manifest: Manifest
    archive_bytes: int = 0
    database_bytes: int = 0
    table_rows: dict[str, int] = field(default_factory=dict)
    workspace_files: int = 0
    workspace_bytes: int = 0
    skipped_files: list[str] = field(default_factory=list)

    def render(self) -> str:
        m = self.manifest
        lines = [
            f"backup written to {self.path} ({_size(self.archive_bytes)})",
            f"  database:   {m.database} at revision {m.schema_revision}, {_size(self.database_bytes)}",
        ]
        if self.table_rows:
            rows = ", ".join(f"{name} {count}" for name, count in sorted(self.table_rows.items()) if count)
            lines.append(f"  rows:       {rows or 'none'}")
        lines.append(f"  workspaces: {self.workspace_files} files, {_size(self.workspace_bytes)}")
        if self.skipped_files:
            lines.append(f"  skipped (removed while archiving): {', '.join(self.skipped_files)}")
        if m.includes_secret:
            lines.append(
                f"  secret:     {SECRET_FILE_NAME} INCLUDED; keep this archive as safe as the secret"
            )
        else:
            lines.append(
                f"  secret:     {SECRET_FILE_NAME} not included (pass --include-secret to include it)"
            )
        return "\n".join(lines)


@dataclass
class RestoreSummary:
    manifest: Manifest
    target: str
    revision_after: str | None
    workspace_files: int
    secret_restored: bool
    forced_over_pid: int | None = None

    def render(self) -> str:
        m = self.manifest
        lines = []
        if self.forced_over_pid is not None:
            lines.append(
                f"warning: restored over the data of a running server (pid {self.forced_over_pid}, --force)"
            )
        lines += [
            f"restored the {m.database} backup of {m.created_at} (revision {m.schema_revision})"
            f" into {self.target}",
            f"  schema now at revision {self.revision_after}",
            f"  workspaces: {self.workspace_files} files",
            f"  secret:     {SECRET_FILE_NAME} "
            + ("restored" if self.secret_restored else "not in the archive; left as is"),
        ]
        return "\n".join(lines)


# --- backup ---------------------------------------------------------------------------------------


def create_backup(settings: Settings, path: Path, *, include_secret: bool = False) -> BackupSummary:
    try:
        return _create_backup(settings, path, include_secret=include_secret)
    except (OSError, sqlite3.Error, tarfile.TarError) as exc:
        raise BackupError(f"backup failed: {exc}") from None


def _create_backup(settings: Settings, path: Path, *, include_secret: bool) -> BackupSummary:
    url = settings.resolved_database_url
    kind: DatabaseKind = "sqlite" if is_sqlite(url) else "postgresql"
    path = path.expanduser().absolute()
    if path.is_dir():
        raise BackupError(
            f"{path} is a directory; give the archive's file name, e.g. {path / 'talkative.tar.gz'}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    secret_path = settings.data_dir / SECRET_FILE_NAME
    if include_secret and not secret_path.is_file():
        raise BackupError(
            f"--include-secret given but {secret_path} does not exist "
            "(is the secret set with AUTH_JWT_SECRET instead?)"
        )

    with tempfile.TemporaryDirectory(prefix=".talkative-backup-", dir=path.parent) as staging_name:
        staging = Path(staging_name)
        if kind == "sqlite":
            db_file = staging / "talkative.db"
            revision, rows = _snapshot_sqlite(_sqlite_path(url), db_file)
            member = SQLITE_MEMBER
        else:
            db_file = staging / "talkative.pgdump"
            revision = _live_revision(url)
            _pg_dump(url, db_file)
            rows = {}
            member = PG_MEMBER
        manifest = Manifest(
            schema_revision=revision,
            database=kind,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            talkative_version=__version__,
            includes_secret=include_secret,
        )
        summary = BackupSummary(
            path=path, manifest=manifest, database_bytes=db_file.stat().st_size, table_rows=rows
        )
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with tarfile.open(tmp, "w:gz") as tar:
                _add_bytes(tar, MANIFEST, manifest.to_json().encode())
                tar.add(db_file, arcname=member, recursive=False)
                _add_workspaces(
                    tar, settings.workspaces_dir, summary, skip={tmp.resolve(), staging.resolve()}
                )
                if include_secret:
                    tar.add(secret_path, arcname=SECRET_FILE_NAME, recursive=False)
            with tmp.open("rb") as written:
                os.fsync(written.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    summary.archive_bytes = path.stat().st_size
    return summary


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError(f"the configured SQLite database is in memory ({url}); there is nothing to back up")
    return Path(database)


def _snapshot_sqlite(source: Path, target: Path) -> tuple[str, dict[str, int]]:
    if not source.is_file():
        raise BackupError(f"no database at {source} (check TALKATIVE_DATA_DIR / TALKATIVE_DATABASE_URL)")
    # The online backup API copies every page inside one read transaction: a consistent snapshot
    # while the server keeps writing (WAL lets the writer go on beside this reader).
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # the archived file stands alone, no -wal
            revision, rows = _inspect_sqlite(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return revision, rows


def _inspect_sqlite(conn: sqlite3.Connection) -> tuple[str, dict[str, int]]:
    check = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if check != ["ok"]:
        raise BackupError(f"the database snapshot failed its integrity check: {'; '.join(check[:5])}")
    try:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        found = None
    if not found:
        raise BackupError(
            "the database has no schema revision; run `talkative migrate` (or start the server) first"
        )
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version'"
        )
    ]
    rows = {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in tables}  # noqa: S608
    return str(found[0]), rows


def _live_revision(url: str) -> str:
    try:
        revision = migrations.current_revision_sync(url)
    except Exception as exc:  # any driver error means: cannot reach the database
        raise BackupError(f"cannot read the schema revision from the database: {exc}") from None
    if revision is None:
        raise BackupError(
            "the database has no schema revision; run `talkative migrate` (or start the server) first"
        )
    return revision


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _add_workspaces(tar: tarfile.TarFile, root: Path, summary: BackupSummary, *, skip: set[Path]) -> None:
    """Add the workspaces tree, tolerating files that agents change or remove meanwhile."""
    if not root.is_dir():
        return
    tar.add(root, arcname=WORKSPACES_MEMBER, recursive=False)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in sorted(dirnames) if (here / d).resolve() not in skip]
        for name in [*dirnames, *sorted(filenames)]:
            full = here / name
            arcname = f"{WORKSPACES_MEMBER}/{full.relative_to(root).as_posix()}"
            if full.resolve() in skip:
                continue
            try:
                if full.is_symlink() or full.is_dir():
                    tar.add(full, arcname=arcname, recursive=False)
                elif full.is_file():
                    _add_file(tar, full, arcname, summary)
            except FileNotFoundError:
                summary.skipped_files.append(arcname)


def _add_file(tar: tarfile.TarFile, full: Path, arcname: str, summary: BackupSummary) -> None:
    with full.open("rb") as handle:
        info = tar.gettarinfo(arcname=arcname, fileobj=handle)
        if info.size <= _READ_WHOLE_BYTES:
            data = handle.read()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        else:
            tar.addfile(info, handle)
    summary.workspace_files += 1
    summary.workspace_bytes += info.size


# --- PostgreSQL tools -----------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"`{name}` was not found on PATH; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) matching the server's major version"
        )
    return found


def _libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL (password left out) and the environment carrying the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run_pg(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what} could not run: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise BackupError(f"{what} failed (exit {done.returncode}): {detail}")


def _pg_dump(url: str, target: Path) -> None:
    tool = _pg_tool("pg_dump")
    dbname, env = _libpq_target(url)
    _run_pg(
        [tool, "--format=custom", "--no-password", f"--file={target}", f"--dbname={dbname}"], env, "pg_dump"
    )


def _pg_restore(url: str, dump: Path) -> None:
    tool = _pg_tool("pg_restore")
    dbname, env = _libpq_target(url)
    args = [
        tool,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={dbname}",
        str(dump),
    ]
    _run_pg(args, env, "pg_restore")


# --- restore --------------------------------------------------------------------------------------


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
            target = _sqlite_path(url)
            _restore_sqlite(staging / SQLITE_MEMBER, target)
            where = str(target)
        else:
            dump = staging / PG_MEMBER
            if not dump.is_file():
                raise BackupError(f"the archive has no {PG_MEMBER}")
            _pg_restore(url, dump)
            where = make_url(url).render_as_string(hide_password=True)
        files = _swap_workspaces(staging / WORKSPACES_MEMBER, settings.workspaces_dir, staging)
        secret_restored = _restore_secret(staging / SECRET_FILE_NAME, data_dir / SECRET_FILE_NAME)
    try:
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


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
