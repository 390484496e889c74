"""The newest runs across tenants come from an index, whatever the number of runs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from talkative.runs import service as runs


async def test_platform_run_list_reads_the_index_without_sorting(app: FastAPI) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_c: object, _cur: object, statement: str, parameters: Any, *_: object) -> None:
        if "FROM runs" in statement:
            seen.append((statement, parameters))

    engine = app.state.engine
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with app.state.sessionmaker() as session:
            await runs.list_runs(session, tenant_id=None, agent_id=None, status=None, limit=20)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    statement, parameters = next(s for s in seen if "ORDER BY runs.created_at DESC" in s[0])
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "ix_runs_created_id" in plan and "TEMP B-TREE" not in plan, plan
        else:
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = (await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)).all()
            plan = "\n".join(str(row[0]) for row in rows)
            assert "ix_runs_created_id" in plan and "Sort" not in plan, plan
            await conn.rollback()
