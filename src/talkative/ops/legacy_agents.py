"""Legacy import of agents and their workspaces, and the helpers every kind shares."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from talkative.agents.models import Agent
from talkative.agents.workspace import SUBDIRS, create_workspace, relative_path
from talkative.db import utcnow
from talkative.ops.legacy_read import ImportReport, LegacyAgent, read_document
from talkative.settings import Settings
from talkative.workspaces import resolve

CHUNK = 500


@dataclass
class Job:
    settings: Settings
    source: Path
    workspaces: Path | None
    dry_run: bool
    report: ImportReport
    agents: dict[str, int] = field(default_factory=dict)  # legacy agent id -> heartbeat minutes
    tenants: dict[str, str] = field(default_factory=dict)  # legacy agent id -> its tenant
    new_agents: set[str] = field(default_factory=set)


async def existing(
    session: AsyncSession, column: InstrumentedAttribute[Any], values: Iterable[Any]
) -> set[Any]:
    """Which of `values` the column already holds (queried in chunks)."""
    wanted = list(set(values))
    found: set[Any] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found.update((await session.scalars(select(column).where(column.in_(chunk)))).all())
    return found


async def agent_tenants(session: AsyncSession) -> dict[str, str]:
    """Agent id -> tenant, for legacy records that name an agent by id alone (the legacy system's
    ids were unique across tenants; should two of our tenants share an id, one of them is chosen)."""
    return {row.id: row.tenant_id for row in (await session.execute(select(Agent.id, Agent.tenant_id))).all()}


async def import_agents(job: Job, session: AsyncSession) -> None:
    """`agents.json` -> agents, by (tenant, id); the workspace becomes `workspaces/<tenant>/<id>`
    under our data dir."""
    report = job.report
    records = read_document(job.source / "agents.json", "agents", LegacyAgent, "agents", report)
    if records is None:
        return
    counts = report.kind("agents")
    ids = {r.id for _, r in records}
    present: set[tuple[str, str]] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = sorted(ids)[start : start + CHUNK]
        found = await session.execute(select(Agent.tenant_id, Agent.id).where(Agent.id.in_(chunk)))
        present.update((tenant, agent_id) for tenant, agent_id in found.all())
    rows = await session.execute(select(Agent.tenant_id, Agent.workspace))
    taken = {(tenant, path) for tenant, path in rows.all()}
    now = utcnow()
    for where, rec in records:
        job.agents.setdefault(rec.id, rec.heartbeatMinutes)
        job.tenants.setdefault(rec.id, rec.tenant)
        if (rec.tenant, rec.id) in present:
            counts.skipped += 1
            continue
        folder = relative_path(rec.tenant, rec.id)
        if (rec.tenant, folder) in taken:
            report.malformed("agents", where, f"workspace '{folder}' belongs to another agent")
            continue
        running = rec.status == "running"
        created = rec.createdAt or now
        session.add(
            Agent(
                id=rec.id,
                tenant_id=rec.tenant,
                name=rec.name,
                status="running" if running else "stopped",
                heartbeat_minutes=rec.heartbeatMinutes,
                workspace=folder,
                last_heartbeat_at=rec.lastHeartbeatAt,
                # Heartbeats resume one period after the import, not all at once for past due times.
                next_heartbeat_at=now + timedelta(minutes=rec.heartbeatMinutes) if running else None,
                last_message_at=rec.lastMessageAt,
                last_message=rec.lastMessage,
                created_at=created,
                updated_at=rec.updatedAt or created,
            )
        )
        present.add((rec.tenant, rec.id))
        taken.add((rec.tenant, folder))
        job.new_agents.add(rec.id)
        counts.imported += 1
    await session.flush()


async def import_workspaces(job: Job, session: AsyncSession) -> None:
    """Lays out each legacy agent's workspace: copied from `--workspaces` (never overwriting), else empty."""
    report = job.report
    counts = report.kind("workspaces")
    if not job.agents:
        return
    counts.present = True
    query = select(Agent).where(Agent.id.in_(job.agents))
    rows = {(a.tenant_id, a.id): a for a in (await session.scalars(query)).all()}
    for agent_id, minutes in job.agents.items():
        tenant = job.tenants[agent_id]
        agent = rows.get((tenant, agent_id))
        folder = relative_path(tenant, agent_id)
        if agent is None:
            # Only in a dry run (nothing was committed): the agent would have been created.
            counts.imported += int(agent_id in job.new_agents)
            continue
        if agent.workspace != folder:
            counts.skipped += 1  # an agent of ours with its own workspace: not ours to fill
            continue
        legacy = job.workspaces / agent_id if job.workspaces is not None else None
        if legacy is not None and not legacy.is_dir():
            report.problems.append(
                f"workspaces: no folder '{agent_id}' in {job.workspaces}; an empty workspace is laid out"
            )
            legacy = None
        target = resolve(job.settings.workspaces_dir, folder)
        copied = _copy_missing(legacy, target, job) if legacy is not None else 0
        incomplete = _incomplete(target)
        if incomplete and not job.dry_run:
            create_workspace(target, heartbeat_minutes=agent.heartbeat_minutes or minutes)
        if copied or incomplete:
            counts.imported += 1
        else:
            counts.skipped += 1


def _incomplete(path: Path) -> bool:
    return not (
        path.is_dir()
        and all((path / sub).is_dir() for sub in SUBDIRS)
        and (path / "config.json").is_file()
        and (path / "HEARTBEAT.md").is_file()
    )


def _copy_missing(source: Path, target: Path, job: Job) -> int:
    """Copies regular files that `target` lacks; symlinks are never followed nor copied."""
    copied = 0
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath)
        out = target / here.relative_to(source)
        for name in list(dirnames):
            if (here / name).is_symlink():
                dirnames.remove(name)
                job.report.problems.append(f"workspaces: {here / name} is a symlink; not copied")
        try:
            if not job.dry_run:
                out.mkdir(parents=True, exist_ok=True)
            for name in filenames:
                src, dst = here / name, out / name
                if src.is_symlink() or not src.is_file():
                    job.report.problems.append(f"workspaces: {src} is not a regular file; not copied")
                    continue
                if dst.exists() or dst.is_symlink():
                    continue
                if not job.dry_run:
                    shutil.copy2(src, dst)
                copied += 1
        except OSError as exc:
            job.report.problems.append(f"workspaces: copying {here} failed: {exc.strerror or exc}")
    return copied
