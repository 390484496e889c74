"""The database half of a backup: SQLite's online snapshot, and PostgreSQL's pg_dump / pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from talkative.db import SQLITE_BUSY_TIMEOUT_MS


class BackupError(Exception):
    """An expected failure: the message is shown to the operator as is."""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError(f"the configured SQLite database is in memory ({url}); there is nothing to back up")
    return Path(database)


def snapshot_sqlite(source: Path, target: Path) -> tuple[str, dict[str, int]]:
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
            revision, rows = inspect_sqlite(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return revision, rows


def inspect_sqlite(conn: sqlite3.Connection) -> tuple[str, dict[str, int]]:
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


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"`{name}` was not found on PATH; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) matching the server's major version"
        )
    return found


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL (password left out) and the environment carrying the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def run_pg(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what} could not run: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise BackupError(f"{what} failed (exit {done.returncode}): {detail}")


def pg_dump(url: str, target: Path) -> None:
    tool = pg_tool("pg_dump")
    dbname, env = libpq_target(url)
    run_pg(
        [tool, "--format=custom", "--no-password", f"--file={target}", f"--dbname={dbname}"], env, "pg_dump"
    )


def pg_restore(url: str, dump: Path) -> None:
    tool = pg_tool("pg_restore")
    dbname, env = libpq_target(url)
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
    run_pg(args, env, "pg_restore")
