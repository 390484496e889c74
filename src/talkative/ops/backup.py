"""`talkative backup` / `talkative restore`: a consistent snapshot of the database and the workspaces.

The archive is one gzip-compressed tar file, named `*.tar.gz` (`.tar.gz` is added to a name
without it; a name with another archive extension, `.zip` or `.tgz`, is refused):

    manifest.json            format, created_at, schema_revision, talkative_version, database
    database/talkative.db    SQLite, taken with the online backup API (never a file copy), or
    database/talkative.pgdump  `pg_dump --format=custom` of the configured PostgreSQL database
    workspaces/...           the data dir's workspaces folder, without `__pycache__` folders
    jwt-secret               only with `--include-secret`

Every expected failure raises `BackupError` with a message meant for a person; the command line
prints it without a traceback.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from talkative import __version__, migrations
from talkative.auth.secrets import SECRET_FILE_NAME
from talkative.db import is_sqlite
from talkative.ops import dumps
from talkative.ops.dumps import BackupError
from talkative.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/talkative.db"
PG_MEMBER = "database/talkative.pgdump"
WORKSPACES_MEMBER = "workspaces"
# Workspace files up to this size are read whole, so one that changes while it is archived is
# stored as one consistent read instead of failing the backup.
READ_WHOLE_BYTES = 64 * 1024 * 1024
ARCHIVE_SUFFIX = ".tar.gz"
OTHER_ARCHIVE_SUFFIXES = (".tgz", ".tar", ".gz", ".zip", ".bz2", ".xz", ".zst", ".7z", ".tbz2", ".txz")
# Interpreter caches a skill run leaves in a workspace: rebuilt on the next run, never restored.
SKIPPED_NAMES = frozenset({"__pycache__"})

DatabaseKind = Literal["sqlite", "postgresql"]


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
            f"backup written to {self.path} ({size(self.archive_bytes)})",
            f"  database:   {m.database} at revision {m.schema_revision}, {size(self.database_bytes)}",
        ]
        if self.table_rows:
            rows = ", ".join(f"{name} {count}" for name, count in sorted(self.table_rows.items()) if count)
            lines.append(f"  rows:       {rows or 'none'}")
        lines.append(f"  workspaces: {self.workspace_files} files, {size(self.workspace_bytes)}")
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
            (
                f"  schema upgraded from revision {m.schema_revision} to {self.revision_after}"
                if self.revision_after != m.schema_revision
                else f"  schema at revision {self.revision_after} (no migration needed)"
            ),
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
    path = archive_path(path.expanduser().absolute())
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
            revision, rows = dumps.snapshot_sqlite(dumps.sqlite_path(url), db_file)
            member = SQLITE_MEMBER
        else:
            db_file = staging / "talkative.pgdump"
            revision = _live_revision(url)
            dumps.pg_dump(url, db_file)
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


def archive_path(path: Path) -> Path:
    """The archive is always gzip-compressed tar: a name ending in `.tar.gz` is kept, a name with
    another archive or compression extension is refused, and any other name gets `.tar.gz` added."""
    name = path.name.lower()
    if name.endswith(ARCHIVE_SUFFIX) or path.is_dir():
        return path
    other = next((ext for ext in OTHER_ARCHIVE_SUFFIXES if name.endswith(ext)), None)
    if other is not None:
        stem = path.name[: -len(other)]
        raise BackupError(
            f"{path.name}: a backup is a gzip-compressed tar archive and its name ends in {ARCHIVE_SUFFIX}, "
            f"not {other}; use e.g. {path.with_name(stem + ARCHIVE_SUFFIX)}"
        )
    return path.with_name(path.name + ARCHIVE_SUFFIX)


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
        dirnames[:] = [
            d for d in sorted(dirnames) if d not in SKIPPED_NAMES and (here / d).resolve() not in skip
        ]
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
        if info.size <= READ_WHOLE_BYTES:
            data = handle.read()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        else:
            tar.addfile(info, handle)
    summary.workspace_files += 1
    summary.workspace_bytes += info.size


def size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
