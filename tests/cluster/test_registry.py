"""Admission to a cluster on PostgreSQL: one signing secret for all live processes, one shared
workspaces root (marked with the cluster's id), entries renewed and removed on the database clock."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative import migrations
from talkative.auth.secrets import AuthConfig, ConfigError, fingerprint
from talkative.cluster import marker, registry
from talkative.cluster.models import ProcessEntry
from talkative.cluster.registry import Member
from talkative.db import create_engine, make_sessionmaker
from tests.conftest import fresh_pg_database

POLL_S = 5.0


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_pg_database("talkative_registry") as url:
        migrations.upgrade(url)
        yield url


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(pg_url)
    maker = make_sessionmaker(engine)
    try:
        yield maker
    finally:
        async with maker() as session, session.begin():
            await session.execute(text("DELETE FROM processes"))
            await session.execute(text("DELETE FROM cluster"))
        await engine.dispose()


def _member(secret: str, roles: str = "api,worker") -> Member:
    return Member.me(roles=roles, fingerprint=fingerprint(AuthConfig(secret=secret, source="env")))


async def _admit(
    sessions: async_sessionmaker[AsyncSession], member: Member, root: Path, *, register: bool = True
) -> str:
    async with sessions() as session, session.begin():
        return await registry.admit(
            session, member=member, workspaces_root=root, poll_s=POLL_S, register=register
        )


async def _entries(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(ProcessEntry.id).order_by(ProcessEntry.started_at))).all())


def test_the_fingerprint_tells_secrets_apart_without_revealing_them() -> None:
    secret = secrets.token_urlsafe(48)
    mine = fingerprint(AuthConfig(secret=secret, source="env"))
    assert mine == fingerprint(AuthConfig(secret=secret, source="file"))
    assert mine != fingerprint(AuthConfig(secret=secrets.token_urlsafe(48), source="env"))
    assert secret not in mine and len(mine) == 64
    assert fingerprint(AuthConfig(secret="", source="disabled", disabled=True)) == "auth-disabled"


async def test_processes_sharing_the_secret_and_the_root_are_admitted_and_registered(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(48)
    first, second = _member(secret), _member(secret, roles="worker")
    cluster_id = await _admit(sessions, first, tmp_path / "shared")
    assert marker.read_marker(tmp_path / "shared") == cluster_id
    assert await _admit(sessions, second, tmp_path / "shared") == cluster_id
    assert await _entries(sessions) == [first.id, second.id]
    await registry.leave(sessions, first)
    assert await _entries(sessions) == [second.id]


async def test_a_process_with_another_secret_is_refused_while_one_with_the_first_lives(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    running = _member(secrets.token_urlsafe(48))
    await _admit(sessions, running, tmp_path)
    stranger = _member(secrets.token_urlsafe(48))
    with pytest.raises(ConfigError) as refused:
        await _admit(sessions, stranger, tmp_path)
    assert "AUTH_JWT_SECRET" in str(refused.value) and f"pid {running.pid}" in str(refused.value)
    assert await _entries(sessions) == [running.id]
    # Once the other has not been seen for a few renewal periods (killed), it no longer counts.
    async with sessions() as session, session.begin():
        long_ago = func.now() - registry.live_window(POLL_S) * 2
        await session.execute(update(ProcessEntry).values(seen_at=long_ago))
    await _admit(sessions, stranger, tmp_path)


async def test_renewing_keeps_a_process_live_and_re_enters_a_forgotten_one(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    member = _member(secrets.token_urlsafe(48))
    await _admit(sessions, member, tmp_path)
    async with sessions() as session, session.begin():
        await session.execute(
            update(ProcessEntry).values(seen_at=func.now() - registry.live_window(POLL_S) * 2)
        )
    await registry.renew(sessions, member)
    with pytest.raises(ConfigError):  # live again, so another secret is refused again
        await _admit(sessions, _member(secrets.token_urlsafe(48)), tmp_path)
    await registry.leave(sessions, member)
    await registry.renew(sessions, member)
    assert await _entries(sessions) == [member.id]


async def test_checking_alone_registers_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _admit(sessions, _member(secrets.token_urlsafe(48)), tmp_path, register=False)
    assert await _entries(sessions) == []


async def test_a_workspaces_root_without_the_clusters_marker_is_refused(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(48)
    cluster_id = await _admit(sessions, _member(secret), tmp_path / "shared")
    with pytest.raises(ConfigError) as refused:
        await _admit(sessions, _member(secret), tmp_path / "local")
    message = str(refused.value)
    assert "TALKATIVE_WORKSPACES_DIR" in message and str(tmp_path / "local") in message
    assert "holds no marker" in message and cluster_id in message
    marker.claim(tmp_path / "other", "another-cluster")
    with pytest.raises(ConfigError, match="another cluster"):
        await _admit(sessions, _member(secret), tmp_path / "other")


async def test_the_first_process_refuses_a_root_that_another_cluster_marked(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    marker.claim(tmp_path, "another-cluster")
    with pytest.raises(ConfigError, match=r"TALKATIVE_WORKSPACES_DIR: .* another cluster"):
        await _admit(sessions, _member(secrets.token_urlsafe(48)), tmp_path)
    assert marker.read_marker(tmp_path) == "another-cluster"
    async with sessions() as session:  # nothing was created: the next process is first again
        assert await session.scalar(text("SELECT count(*) FROM cluster")) == 0
