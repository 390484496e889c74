"""The integrity check against a real history (built through the API, the server running), on
SQLite and PostgreSQL: nothing found when healthy, each planted corruption found and named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from talkative.events.models import EventRow
from talkative.integrity import service
from talkative.integrity.findings import Check, Report, Severity
from talkative.settings import Settings
from tests.factories import Auth
from tests.integrity import planted
from tests.integrity.planted import History

Plant = Callable[[Settings, History], Awaitable[tuple[str, ...]]]


async def _check(settings: Settings) -> Report:
    return await service.run_check(settings.resolved_database_url, workspaces_root=settings.workspaces_dir)


def _url(settings: Settings) -> str:
    return settings.resolved_database_url


async def test_a_healthy_history_passes(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> None:
    await planted.build_history(client, auth)
    report = await _check(settings)
    assert report.findings == [], report.findings
    assert report.ok and Check.WORKSPACE_SHARED in report.ran and Check.RUN_OPEN_STEPS in report.ran
    engine = [Check.ENGINE_INTEGRITY, Check.ENGINE_FOREIGN_KEYS]
    if report.engine == "postgresql":
        engine = [Check.ENGINE_INVALID_INDEX]
    assert report.ran[: len(engine)] == engine


PLANTS: dict[Check, Plant] = {
    Check.RUN_OPEN_STEPS: lambda s, h: planted.completed_run_with_pending_step(_url(s), h),
    Check.RESERVATION_HELD: lambda s, h: planted.held_reservation_of_finished_run(_url(s), h),
    Check.EVENT_CROSS_TENANT_RUN: lambda s, h: planted.cross_tenant_event(_url(s), h),
    Check.WORKSPACE_MISSING: lambda s, h: planted.missing_workspace(s.workspaces_dir),
    Check.WORKFLOW_VERSION_GAP: lambda s, h: planted.gap_in_versions(_url(s), h),
    Check.WORKSPACE_SHARED: lambda s, h: planted.shared_workspace(_url(s)),
    Check.RUN_FINISHING_EVENT: lambda s, h: planted.finished_run_without_its_end(_url(s), h),
}


@pytest.mark.parametrize("check", list(PLANTS))
async def test_each_planted_corruption_is_found(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, check: Check
) -> None:
    history = await planted.build_history(client, auth)
    subjects = await PLANTS[check](settings, history)
    report = await _check(settings)
    assert [(f.check, f.subjects) for f in report.findings] == [(check, subjects)], report.findings
    assert report.findings[0].severity == Severity.ERROR and not report.ok


async def test_a_gap_at_the_top_is_found(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> None:
    history = await planted.build_history(client, auth)
    subjects = await planted.workflow_pointing_past_its_versions(_url(settings), history)
    (finding,) = (await _check(settings)).findings
    assert (finding.check, finding.subjects) == (Check.WORKFLOW_VERSION_GAP, subjects)
    assert "at v5 but holds versions: 3 between v1 and v3" in finding.detail


async def test_an_event_naming_another_tenants_agent_is_a_warning(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await planted.build_history(client, auth)
    async with planted.writing(_url(settings)) as session:
        session.add(EventRow(tenant_id="tenant-c", agent_id="alpha", type="AGENT_STARTED", payload={}))
    (finding,) = (await _check(settings)).findings
    assert (finding.check, finding.severity) == (Check.EVENT_CROSS_TENANT_AGENT, Severity.WARNING)
    assert finding.subjects[:2] == ("tenant-c", "alpha")
    assert "'tenant-a', 'tenant-b'" in finding.detail


async def test_no_database_is_said(settings: Settings) -> None:
    if not settings.resolved_database_url.startswith("sqlite"):
        with pytest.raises(OSError):  # nothing listens on port 1
            await service.run_check(
                "postgresql+asyncpg://nobody@127.0.0.1:1/none", workspaces_root=settings.workspaces_dir
            )
        return
    with pytest.raises(service.NoDatabase, match="no SQLite database at"):
        await _check(settings)


async def test_the_check_reads_only(app: FastAPI, settings: Settings) -> None:
    """Its connections cannot write: SQLite's file is opened read-only, PostgreSQL's transactions
    are READ ONLY."""
    read_only = service.reader(settings.resolved_database_url)
    try:
        async with read_only.connect() as conn:
            with pytest.raises(DBAPIError, match=r"read-?only"):
                await conn.execute(text("CREATE TABLE written_by_the_check (a integer)"))
    finally:
        await read_only.dispose()
