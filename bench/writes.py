"""Statements a message costs: INSERTs and UPDATEs by table, for the three shapes of the loop.

A figure to watch, not a pin: `python -m bench.writes` prints a Markdown table (SQLite, in process,
the worker included). A change that adds writes to the critical loop shows here; whether it is
worth it is decided with `make bench`'s latency figures.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from bench.plan import NO_TOOL_MESSAGE, TOOL_MESSAGE
from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.main import create_app
from talkative.settings import Settings

SECRET = secrets.token_urlsafe(48)  # a throwaway data dir
SHAPES = {
    "no tool": NO_TOOL_MESSAGE,
    "one tool": TOOL_MESSAGE,
    "approval": "refund the customer",
}


@contextmanager
def counting(app: FastAPI) -> Iterator[Counter[str]]:
    """Counts the INSERT/UPDATE statements sent, by verb and table ("INSERT runs")."""
    seen: Counter[str] = Counter()

    def record(_c: object, _cur: object, statement: str, *_: Any) -> None:
        words = statement.split()
        if words[0] == "INSERT":
            seen[f"INSERT {words[2]}"] += 1
        elif words[0] == "UPDATE":
            seen[f"UPDATE {words[1]}"] += 1

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def measure(data_dir: Path) -> dict[str, Counter[str]]:
    settings = Settings(TALKATIVE_DATA_DIR=data_dir, AUTH_JWT_SECRET=SECRET)
    token = mint_token(
        secret=SECRET, sub="bench", role=Role("operator"), tenant_id="bench", ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(settings)
    figures: dict[str, Counter[str]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            body = {"id": "writer", "name": "writer", "template": "mail-triage"}
            (await http.post("/agents", json=body, headers=headers)).raise_for_status()
            (await http.post("/agents/writer/start", headers=headers)).raise_for_status()
            for shape, text in SHAPES.items():
                await http.post("/agents/writer/message", json={"message": text}, headers=headers)  # warm
                with counting(app) as seen:
                    reply = await http.post("/agents/writer/message", json={"message": text}, headers=headers)
                    reply.raise_for_status()
                figures[shape] = seen
    return figures


def table(figures: dict[str, Counter[str]]) -> str:
    rows = sorted({key for seen in figures.values() for key in seen})
    lines = ["| statement | " + " | ".join(figures) + " |", "|---" * (len(figures) + 1) + "|"]
    lines += [f"| {row} | " + " | ".join(str(seen[row]) for seen in figures.values()) + " |" for row in rows]
    totals = " | ".join(str(sum(seen.values())) for seen in figures.values())
    lines.append(f"| **total** | {totals} |")
    return "\n".join(lines)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="talkative-writes-") as tmp:
        print(table(asyncio.run(measure(Path(tmp) / "data"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
