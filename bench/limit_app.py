"""The "limit": a minimal FastAPI app answering the benchmark's request shapes with only the writes.

`POST /agents/{id}/message` stores a message row and the five events of a no-tool run in one SQLite
transaction, and `GET /agents/{id}/events?tail=N` reads the newest N back, on the same stack as
Talkative (FastAPI, SQLAlchemy async over Talkative's inline aiosqlite connections, WAL,
synchronous=NORMAL, BEGIN IMMEDIATE) and served by uvicorn the way `talkative serve` does. What
Talkative takes beyond this is its own cost.

    python -m bench.limit_app --port 8123 --data-dir /tmp/limit
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from talkative import sqlite_driver

NO_TOOL_EVENTS = (
    "MESSAGE_RECEIVED",
    "INTERPRETATION_RESULT",
    "WORKFLOW_PATCH_PROPOSED",
    "WORKFLOW_PATCH_APPLIED",
    "RUN_COMPLETED",
)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (id VARCHAR(64) PRIMARY KEY, agent_id VARCHAR(64) NOT NULL, "
    "text TEXT NOT NULL, created_at DATETIME NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, agent_id VARCHAR(64), run_id VARCHAR(64), "
    "type VARCHAR(64) NOT NULL, message TEXT NOT NULL, payload JSON NOT NULL, created_at DATETIME NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_events_agent_id_id ON events (agent_id, id)",
)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=8000)


def _pragmas(dbapi_conn: Any, _: Any) -> None:
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(db_path: Path) -> AsyncEngine:
    # Talkative's own SQLite connections (statements on the loop's thread), so the floor is fair.
    engine = create_async_engine(
        "sqlite+aiosqlite://", async_creator=sqlite_driver.creator(str(db_path), busy_timeout_ms=10_000)
    )
    event.listen(engine.sync_engine, "connect", _pragmas)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def create_app(data_dir: Path) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  # once, at start-up
        engine = make_engine(data_dir / "limit.db")
        async with engine.begin() as conn:
            for statement in SCHEMA:
                await conn.execute(text(statement))
        app.state.engine = engine
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/agents/{agent_id}/message")
    async def message(agent_id: str, body: MessageIn, request: Request) -> dict[str, Any]:
        run_id = f"run_{secrets.token_hex(8)}"
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        payload = json.dumps({"message": body.message})
        rows = [
            {
                "agent_id": agent_id,
                "run_id": run_id,
                "type": t,
                "message": body.message[:200],
                "payload": payload,
                "at": now,
            }
            for t in NO_TOOL_EVENTS
        ]
        async with request.app.state.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO messages (id, agent_id, text, created_at) "
                    "VALUES (:id, :agent_id, :text, :at)"
                ),
                {"id": run_id, "agent_id": agent_id, "text": body.message, "at": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO events (agent_id, run_id, type, message, payload, created_at) "
                    "VALUES (:agent_id, :run_id, :type, :message, :payload, :at)"
                ),
                rows,
            )
        return {"agentId": agent_id, "run_id": run_id, "run_status": "completed", "events": rows}

    @app.get("/agents/{agent_id}/events")
    async def events(
        agent_id: str, request: Request, tail: Annotated[int, Query(ge=1, le=1000)] = 50
    ) -> dict[str, Any]:
        async with request.app.state.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT id, agent_id, run_id, type, message, payload, created_at FROM events "
                    "WHERE agent_id = :agent_id ORDER BY id DESC LIMIT :tail"
                ),
                {"agent_id": agent_id, "tail": tail},
            )
            rows = [{**r._mapping, "payload": json.loads(r.payload)} for r in result]
        return {"events": list(reversed(rows))}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    # The same call as `talkative serve` (src/talkative/cli.py).
    uvicorn.run(
        create_app(args.data_dir),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
