"""`talkative import-legacy DIR`: the reference Node.js POC's `backend/data` into our database.

Each kind is imported in one pass and its own transaction, idempotently (see docs/import-legacy.md
for the key each kind is recognised by), and bad data is reported, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative import migrations
from talkative.db import create_engine, make_sessionmaker
from talkative.ops.legacy_agents import Job, import_agents, import_workspaces
from talkative.ops.legacy_config import (
    import_budgets,
    import_prompts,
    import_rules,
    import_usage,
    import_workflows,
)
from talkative.ops.legacy_fleet import import_fleet
from talkative.ops.legacy_read import Counts, ImportReport
from talkative.ops.legacy_runs import (
    import_agent_events,
    import_approvals,
    import_client_messages,
    import_commands,
    import_internal_actions,
    import_orchestrator_events,
    import_runs,
)
from talkative.settings import Settings

Step = Callable[[Job, AsyncSession], Awaitable[None]]

# In dependency order; each step's kinds are what its report rows are called.
STEPS: tuple[tuple[tuple[str, ...], Step], ...] = (
    (("agents",), import_agents),
    (("workspaces",), import_workspaces),
    (("workflows", "workflow_versions"), import_workflows),
    (("prompts",), import_prompts),
    (("runs", "run_steps"), import_runs),
    (("orchestrator_commands",), import_commands),
    (("agent_events",), import_agent_events),
    (("orchestrator_events",), import_orchestrator_events),
    (("approvals",), import_approvals),
    (("client_messages",), import_client_messages),
    (("internal_actions",), import_internal_actions),
    (("router_rules",), import_rules),
    (("router_budgets",), import_budgets),
    (("usage",), import_usage),
    (("tenants", "clouds", "nodes"), import_fleet),
)


class NotADirectory(Exception):
    pass


async def import_legacy(
    settings: Settings, source: Path, *, workspaces: Path | None = None, dry_run: bool = False
) -> ImportReport:
    """Applies migrations, then imports every kind found under `source` (missing files are fine)."""
    for folder in (source, workspaces):
        if folder is not None and not folder.is_dir():
            raise NotADirectory(f"{folder} is not a directory")
    report = ImportReport(source=source, dry_run=dry_run)
    for kinds, _ in STEPS:
        for kind in kinds:
            report.kind(kind)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url, timeout_s=settings.db_timeout_s)
    job = Job(settings=settings, source=source, workspaces=workspaces, dry_run=dry_run, report=report)
    try:
        sessionmaker = make_sessionmaker(engine)
        if dry_run:
            await _dry_run(sessionmaker, job)
        else:
            for kinds, step in STEPS:
                await _in_transaction(sessionmaker, job, kinds, step)
    finally:
        await engine.dispose()
    return report


async def _in_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], job: Job, kinds: tuple[str, ...], step: Step
) -> None:
    async with sessionmaker() as session:
        try:
            await step(job, session)
            await session.commit()
        except SQLAlchemyError as exc:
            await session.rollback()
            _refused(job, kinds, exc)


async def _dry_run(sessionmaker: async_sessionmaker[AsyncSession], job: Job) -> None:
    """Every kind in one transaction, rolled back: later kinds see what earlier ones would add."""
    async with sessionmaker() as session:
        try:
            for kinds, step in STEPS:
                try:
                    async with session.begin_nested():
                        await step(job, session)
                except SQLAlchemyError as exc:
                    _refused(job, kinds, exc)
        finally:
            await session.rollback()


def _refused(job: Job, kinds: tuple[str, ...], exc: SQLAlchemyError) -> None:
    """Validation should leave nothing for the database to refuse; if it does, the kind is rolled
    back whole and reported, and the other kinds go on."""
    for kind in kinds:
        counts = job.report.kind(kind)
        counts.malformed += counts.imported
        counts.imported = 0
    orig = getattr(exc, "orig", None)
    reason = (str(orig if orig is not None else exc).splitlines() or ["unknown"])[0]
    job.report.problems.append(f"{'/'.join(kinds)}: the database refused the import ({reason})")


def render_table(report: ImportReport) -> str:
    header = ("kind", "imported", "already present", "malformed", "note")
    rows = [
        (kind, str(c.imported), str(c.skipped), str(c.malformed), _note(c))
        for kind, c in report.kinds.items()
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        numbers = [cells[i].rjust(widths[i]) for i in (1, 2, 3)]
        return "  ".join([first, *numbers, cells[4]]).rstrip()

    out = [
        f"Legacy import from {report.source}" + (" (dry run: nothing was written)" if report.dry_run else "")
    ]
    out += [line(header), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows]
    if report.changes:
        out += ["", f"Imported with changes ({len(report.changes)}):"]
        out += [f"  {c}" for c in report.changes]
    if report.problems:
        out += ["", f"Problems ({len(report.problems)}):"]
        out += [f"  {p}" for p in report.problems]
    return "\n".join(out)


def _note(counts: Counts) -> str:
    if counts.note:
        return counts.note
    return "" if counts.present else "not found"
