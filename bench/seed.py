"""Growth phases only: bulk rows written straight into the server's SQLite file.

The public API has no bulk write, and growing an agent to 1M events one message at a time would
take hours, so the history and metrics workloads grow the tables here and then measure over HTTP.
The server keeps running (WAL lets this second writer commit between its transactions).

Seeded rows are clones of rows the server itself wrote during the run (every column copied, so
the shapes follow the schema as it changes), with fresh ids, run ids and timestamps. Usage rows
also move the daily rollup (`usage_daily`) the way `llm_router.ledger` does: one upsert per
(day, tenant, agent, model) adding requests, errors, tokens and cost.
"""

# Table and column names in the SQL below come from this module and from PRAGMA table_info, never
# from input, so the string-built statements are safe.
# ruff: noqa: S608

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BATCH = 25_000
BUSY_TIMEOUT_MS = 60_000
SPREAD_DAYS = 60  # seeded usage and runs are spread over the last 60 days (metrics look back 90)
ROLLUP_SUMS = ("requests", "errors", "prompt_tokens", "completion_tokens", "tokens", "cost")


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy's DateTime stores a UTC moment in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    if not db_path.exists():
        raise FileNotFoundError(f"no database at {db_path}")
    conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=NORMAL")
        yield conn
    finally:
        conn.close()


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _insert_batches(
    conn: sqlite3.Connection, table: str, cols: list[str], rows: Iterator[tuple[Any, ...]], after: Any = None
) -> int:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    written = 0
    while True:
        batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
        if not batch:
            return written
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(sql, batch)
            if after is not None:
                after(conn, batch)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        written += len(batch)
        time.sleep(0.01)  # let the server's writers in between batches


def grow_events(db_path: Path, *, agent_id: str, target: int) -> int:
    """Clones the agent's own events until it has `target`; returns how many it has."""
    with connect(db_path) as conn:
        have = int(conn.execute("SELECT count(*) FROM events WHERE agent_id = ?", (agent_id,)).fetchone()[0])
        missing = target - have
        if missing <= 0:
            return have
        cols = [c for c in columns(conn, "events") if c != "id"]
        template = conn.execute(
            f"SELECT {', '.join(cols)} FROM events WHERE agent_id = ? AND run_id IS NOT NULL "
            "ORDER BY id LIMIT 200",
            (agent_id,),
        ).fetchall()
        if not template:
            raise RuntimeError(f"agent {agent_id} has no run events to clone")
        run_at, created_at = cols.index("run_id"), cols.index("created_at")
        start = datetime.now(UTC) - timedelta(microseconds=missing)

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(missing):
                row = list(template[i % len(template)])
                row[run_at] = f"seed-{i // len(template)}-{row[run_at]}"[:64]
                row[created_at] = _stamp(start + timedelta(microseconds=i))
                yield tuple(row)

        _insert_batches(conn, "events", cols, rows())
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return have + missing


def grow_usage(db_path: Path, *, target: int, agent_ids: Sequence[str]) -> int:
    """Clones a real usage row until the ledger holds `target` rows, keeping `usage_daily` in step."""
    with connect(db_path) as conn:
        have = int(conn.execute("SELECT count(*) FROM usage_ledger").fetchone()[0])
        missing = target - have
        if missing <= 0:
            return have
        cols = [c for c in columns(conn, "usage_ledger") if c != "id"]
        template = conn.execute(
            f"SELECT {', '.join(cols)} FROM usage_ledger WHERE status = 'ok' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if template is None:
            raise RuntimeError("the usage ledger has no row to clone")
        at = {name: cols.index(name) for name in cols}
        now = datetime.now(UTC)
        span = timedelta(days=SPREAD_DAYS).total_seconds()

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(missing):
                row = list(template)
                row[at["agent_id"]] = agent_ids[i % len(agent_ids)]
                row[at["run_id"]] = f"seed-usage-{i}"
                row[at["created_at"]] = _stamp(now - timedelta(seconds=span * (1 - i / missing)))
                if i % 100 == 99:  # 1 % of calls failed, as a ledger would show
                    row[at["status"]] = "error"
                    if "error" in at:
                        row[at["error"]] = "seeded provider error"
                yield tuple(row)

        def rollup(conn: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> None:
            # The same upsert as llm_router.ledger._rollup, summed per key for the batch.
            sums: dict[tuple[str, str, str, str], list[float]] = {}
            for row in batch:
                key = (
                    row[at["created_at"]][:10],
                    row[at["tenant_id"]],
                    row[at["agent_id"]] or "",
                    row[at["model"]],
                )
                acc = sums.setdefault(key, [0, 0, 0, 0, 0, 0.0])
                acc[0] += 1
                acc[1] += int(row[at["status"]] != "ok")
                acc[2] += row[at["prompt_tokens"]]
                acc[3] += row[at["completion_tokens"]]
                acc[4] += row[at["prompt_tokens"]] + row[at["completion_tokens"]]
                acc[5] += row[at["cost"]]
            added = ", ".join(f"{c} = {c} + excluded.{c}" for c in ROLLUP_SUMS)
            conn.executemany(
                f"INSERT INTO usage_daily (day, tenant_id, agent_id, model, {', '.join(ROLLUP_SUMS)}) "
                f"VALUES (?, ?, ?, ?, {', '.join('?' * len(ROLLUP_SUMS))}) "
                f"ON CONFLICT (day, tenant_id, agent_id, model) DO UPDATE SET {added}",
                [(*key, *acc) for key, acc in sums.items()],
            )

        _insert_batches(conn, "usage_ledger", cols, rows(), after=rollup)
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return have + missing


def grow_runs(db_path: Path, *, target: int, agent_ids: Sequence[str]) -> int:
    """Clones a real completed run (fresh ids, spread timestamps) until `runs` holds `target` rows."""
    with connect(db_path) as conn:
        have = int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
        missing = target - have
        if missing <= 0:
            return have
        cols = columns(conn, "runs")
        template = conn.execute(
            f"SELECT {', '.join(cols)} FROM runs WHERE status = 'completed' AND parent_run_id IS NULL "
            "ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        if template is None:
            raise RuntimeError("no completed run to clone")
        at = {name: cols.index(name) for name in cols}
        stamps = [c for c in ("created_at", "updated_at", "finished_at") if c in at]
        now = datetime.now(UTC)
        span = timedelta(days=SPREAD_DAYS).total_seconds()

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(missing):
                row = list(template)
                row[at["id"]] = f"run_{secrets.token_hex(8)}"
                row[at["agent_id"]] = agent_ids[i % len(agent_ids)]
                moment = _stamp(now - timedelta(seconds=span * (1 - i / missing)))
                for name in stamps:
                    row[at[name]] = moment
                yield tuple(row)

        _insert_batches(conn, "runs", cols, rows())
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return have + missing
