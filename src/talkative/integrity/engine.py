"""The database engine's own checks, where they are cheap and read-only.

SQLite: `PRAGMA integrity_check` (the file's pages, indexes and constraints) and
`PRAGMA foreign_key_check`. PostgreSQL: indexes left invalid (a failed concurrent build), and
amcheck's `bt_index_check` on every B-tree index of the schema when the extension is installed
already (it is never installed from here: that is a write, and needs a superuser).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from talkative.integrity.findings import Check, Finding, Severity

SQLITE_MAX_ERRORS = 100  # integrity_check stops after this many problems


async def sqlite_integrity(conn: AsyncConnection) -> list[Finding]:
    rows = (await conn.exec_driver_sql(f"PRAGMA integrity_check({SQLITE_MAX_ERRORS})")).scalars().all()
    return [
        Finding(Check.ENGINE_INTEGRITY, Severity.ERROR, ("sqlite",), str(row))
        for row in rows
        if str(row) != "ok"
    ]


async def sqlite_foreign_keys(conn: AsyncConnection) -> list[Finding]:
    rows: list[tuple[Any, ...]] = [tuple(r) for r in await conn.exec_driver_sql("PRAGMA foreign_key_check")]
    return [
        Finding(
            Check.ENGINE_FOREIGN_KEYS,
            Severity.ERROR,
            (str(row[0]), f"rowid:{row[1]}"),
            f"row {row[1]} of {row[0]} points at a missing row of {row[2]}",
        )
        for row in rows
    ]


_INVALID_INDEXES = text(
    """
    SELECT t.relname, i.relname
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = i.relnamespace
    WHERE n.nspname = current_schema() AND NOT (x.indisvalid AND x.indisready)
    ORDER BY t.relname, i.relname
    """
)
_BTREE_INDEXES = text(
    """
    SELECT i.oid, i.relname
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am a ON a.oid = i.relam
    JOIN pg_namespace n ON n.oid = i.relnamespace
    WHERE n.nspname = current_schema() AND a.amname = 'btree' AND x.indisvalid AND x.indisready
    ORDER BY i.relname
    """
)


async def pg_invalid_indexes(conn: AsyncConnection) -> list[Finding]:
    rows = (await conn.execute(_INVALID_INDEXES)).all()
    return [
        Finding(
            Check.ENGINE_INVALID_INDEX,
            Severity.ERROR,
            (str(table), str(index)),
            f"index {index} of {table} is invalid (a failed or interrupted build): rebuild it",
        )
        for table, index in rows
    ]


async def pg_has_amcheck(conn: AsyncConnection) -> bool:
    found = await conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"))
    return found is not None


async def pg_btree_indexes(conn: AsyncConnection) -> list[Finding]:
    """bt_index_check takes the same lock as a SELECT: writers go on while it reads."""
    found = []
    for oid, name in (await conn.execute(_BTREE_INDEXES)).all():
        try:
            async with conn.begin_nested():
                await conn.execute(text("SELECT bt_index_check(CAST(:oid AS oid))"), {"oid": oid})
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            found.append(Finding(Check.ENGINE_BTREE_INDEX, Severity.ERROR, (str(name),), reason))
    return found
