"""One integrity pass: the engine's checks, then the domain's, each in a short read-only
transaction of its own, on a connection of the pass's own (never the server's writer pool).

On SQLite the file is opened read-only (`mode=ro`): the pass takes no write lock, so the server's
writers go on beside it. On PostgreSQL every transaction is READ ONLY.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from talkative import workspaces
from talkative.db import is_sqlite
from talkative.errors import TalkativeError
from talkative.integrity import checks, engine, queries
from talkative.integrity.findings import Check, Finding, Report

Row = TypeVar("Row")
Step = Callable[[AsyncConnection], Awaitable[list[Finding]]]


class NoDatabase(TalkativeError):
    code = "NO_DATABASE"


def reader(url: str, *, timeout_s: float = 5.0) -> AsyncEngine:
    """An engine that can only read, for the pass alone."""
    if is_sqlite(url):
        path = make_url(url).database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise NoDatabase(f"no SQLite database at {path}: nothing to check")
        ro = f"sqlite+aiosqlite:///file:{Path(path).resolve()}?mode=ro&uri=true"
        return create_async_engine(ro, poolclass=NullPool, connect_args={"timeout": timeout_s})
    return create_async_engine(
        url,
        poolclass=NullPool,
        connect_args={"timeout": timeout_s, "command_timeout": 300},
        execution_options={"postgresql_readonly": True},
    )


@asynccontextmanager
async def opened(url: str, *, timeout_s: float = 5.0) -> AsyncIterator[AsyncEngine]:
    read_only = reader(url, timeout_s=timeout_s)
    try:
        yield read_only
    finally:
        await read_only.dispose()


def wrap(
    query: Callable[[AsyncConnection], Awaitable[list[Row]]], judge: Callable[[list[Row]], list[Finding]]
) -> Step:
    """A domain check: its query, then the pure function that says what the rows break."""

    async def step(conn: AsyncConnection) -> list[Finding]:
        return judge(await query(conn))

    return step


def _domain_steps(workspaces_root: Path) -> list[tuple[Check, Step]]:
    resolve = partial(workspaces.resolve, workspaces_root)
    return [
        (Check.RUN_OPEN_STEPS, wrap(queries.open_steps, checks.open_steps)),
        (Check.RUN_FINISHING_EVENT, wrap(queries.missing_finishing_events, checks.missing_finishing_events)),
        (Check.RUN_FINISH_TIME, wrap(queries.missing_finish_times, checks.missing_finish_times)),
        (Check.RESERVATION_HELD, wrap(queries.held_reservations, checks.held_reservations)),
        (Check.EVENT_CROSS_TENANT_RUN, wrap(queries.foreign_run_events, checks.foreign_run_events)),
        (Check.EVENT_CROSS_TENANT_AGENT, wrap(queries.foreign_agent_events, checks.foreign_agent_events)),
        (Check.WORKFLOW_VERSION_GAP, wrap(queries.version_ranges, checks.version_gaps)),
        # WORKSPACE_SHARED is found by the same pass over the agents' folders.
        (
            Check.WORKSPACE_MISSING,
            wrap(queries.agent_workspaces, partial(checks.workspaces, resolve=resolve)),
        ),
    ]


async def _engine_steps(read_only: AsyncEngine) -> list[tuple[Check, Step]]:
    if read_only.dialect.name == "sqlite":
        return [
            (Check.ENGINE_INTEGRITY, engine.sqlite_integrity),
            (Check.ENGINE_FOREIGN_KEYS, engine.sqlite_foreign_keys),
        ]
    steps: list[tuple[Check, Step]] = [(Check.ENGINE_INVALID_INDEX, engine.pg_invalid_indexes)]
    async with read_only.connect() as conn:
        if await engine.pg_has_amcheck(conn):
            steps.append((Check.ENGINE_BTREE_INDEX, engine.pg_btree_indexes))
    return steps


async def run_check(url: str, *, workspaces_root: Path, timeout_s: float = 5.0) -> Report:
    """Every check, in order; each in its own transaction, so none holds a snapshot for long."""
    async with opened(url, timeout_s=timeout_s) as read_only:
        report = Report(engine=read_only.dialect.name)
        for check, step in [*await _engine_steps(read_only), *_domain_steps(workspaces_root)]:
            async with read_only.connect() as conn:
                report.add(check, await step(conn))
        if Check.WORKSPACE_MISSING in report.ran:
            report.ran.append(Check.WORKSPACE_SHARED)
    report.finished_at = time.time()
    return report
