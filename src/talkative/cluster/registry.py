"""The process registry: who runs on this PostgreSQL database, and which secret each signs with.

A process is admitted once, before it serves: in one transaction, under a lock that orders the
processes starting together, it is refused if a live process signs tokens with another secret
(tokens one process issues must pass at every other), and if its workspaces root is not the
cluster's (marker.py); otherwise its entry is added. It renews the entry while it runs and
removes it when it stops; one killed stops counting after a few renewal periods. Times come from
the database's clock, so machines whose clocks differ agree on who is live.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.auth.secrets import ConfigError
from talkative.cluster import marker
from talkative.cluster.models import ClusterIdentity, ProcessEntry

log = logging.getLogger("talkative.cluster")

# Any fixed key that no other lock uses; this one spells "talkadmt" in ASCII.
ADMISSION_LOCK = 0x74616C6B61646D74
LIVE_PERIODS = 3  # a process not seen for this many renewal periods counts as gone
FORGET_AFTER = timedelta(days=1)  # entries of processes gone this long are removed


@dataclass(frozen=True)
class Member:
    """This process as the registry knows it."""

    id: str
    host: str
    pid: int
    roles: str
    fingerprint: str

    @classmethod
    def me(cls, *, roles: str, fingerprint: str) -> Member:
        host = socket.gethostname()[:255]
        return cls(f"{host[:40]}:{os.getpid()}:{secrets.token_hex(4)}", host, os.getpid(), roles, fingerprint)


def live_window(poll_s: float) -> timedelta:
    return timedelta(seconds=poll_s * LIVE_PERIODS)


async def admit(
    session: AsyncSession, *, member: Member, workspaces_root: Path, poll_s: float, register: bool
) -> str:
    """Checks that this process may join the cluster and, with `register`, adds it; returns the
    cluster id. Raises ConfigError saying what to fix. The caller commits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMISSION_LOCK})
    await _refuse_another_secret(session, member, poll_s)
    cluster_id = await _cluster_id(session, workspaces_root)
    if register:
        await session.execute(delete(ProcessEntry).where(ProcessEntry.seen_at < func.now() - FORGET_AFTER))
        session.add(_entry(member))
        await session.flush()
    return cluster_id


async def _refuse_another_secret(session: AsyncSession, member: Member, poll_s: float) -> None:
    others = (
        await session.execute(
            select(ProcessEntry.host, ProcessEntry.pid, ProcessEntry.roles)
            .where(
                ProcessEntry.seen_at > func.now() - live_window(poll_s),
                ProcessEntry.secret_fingerprint != member.fingerprint,
            )
            .order_by(ProcessEntry.started_at)
            .limit(5)
        )
    ).all()
    if not others:
        return
    named = ", ".join(f"pid {pid} on {host} ({roles})" for host, pid, roles in others)
    raise ConfigError(
        "AUTH_JWT_SECRET: this process would sign and check tokens with another secret than the "
        f"processes running on this database ({named}), so tokens one of them issues would fail "
        "at the other. Every process of a cluster must share one secret: set the same "
        "AUTH_JWT_SECRET in each process's environment (a secret generated into a data dir "
        "belongs to that data dir alone)."
    )


async def _cluster_id(session: AsyncSession, workspaces_root: Path) -> str:
    """The database's cluster id, created (and written to the workspaces root) by the first
    process; every later one must find it in its workspaces root."""
    row = await session.get(ClusterIdentity, 1)
    if row is not None:
        await asyncio.to_thread(marker.check, workspaces_root, row.cluster_id)
        return row.cluster_id
    cluster_id = secrets.token_hex(16)
    session.add(ClusterIdentity(key=1, cluster_id=cluster_id, created_at=func.now()))
    await session.flush()
    # Before the commit: had the row been committed first, a crash in between would leave the
    # cluster with an id that no folder holds, and every process refused.
    await asyncio.to_thread(marker.claim, workspaces_root, cluster_id)
    log.info(
        "this database's cluster id is %s, marked in %s", cluster_id, marker.marker_path(workspaces_root)
    )
    return cluster_id


def _entry(member: Member) -> ProcessEntry:
    return ProcessEntry(
        id=member.id,
        host=member.host,
        pid=member.pid,
        roles=member.roles,
        secret_fingerprint=member.fingerprint,
        started_at=func.now(),
        seen_at=func.now(),
    )


async def renew(sessionmaker: async_sessionmaker[AsyncSession], member: Member) -> None:
    async with sessionmaker() as session, session.begin():
        seen = update(ProcessEntry).where(ProcessEntry.id == member.id).values(seen_at=func.now())
        if not (await session.execute(seen)).rowcount:  # type: ignore[attr-defined]
            # Forgotten after a very long pause (or a restore of the database): entered again.
            log.warning("process %s was no longer in the process registry; entered again", member.id)
            session.add(_entry(member))


async def keep_renewing(
    sessionmaker: async_sessionmaker[AsyncSession], member: Member, *, poll_s: float, stopping: asyncio.Event
) -> None:
    while not await _stopped_within(stopping, poll_s):
        try:
            await renew(sessionmaker, member)
        except Exception:  # the database may be away for a while; the next renewal tries again
            log.exception("renewing this process's entry in the process registry failed")


async def leave(sessionmaker: async_sessionmaker[AsyncSession], member: Member) -> None:
    try:
        async with sessionmaker() as session, session.begin():
            await session.execute(delete(ProcessEntry).where(ProcessEntry.id == member.id))
    except (OSError, SQLAlchemyError) as exc:  # stopping all the same: the entry expires unrenewed
        log.warning("could not remove this process from the process registry (%s)", exc)


async def _stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True
