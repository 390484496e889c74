"""Alembic migrations, shipped inside the package so `talkative migrate` works from a wheel.

Alembic (with Mako) costs ~10 MB of a process's memory for good, so only what changes a schema
loads it: the server learns whether its database is current with one query and the version files'
own `revision` lines, and `talkative serve` applies pending migrations in a short-lived child
process (`python -m talkative.migrations`, the URL on stdin) before it starts.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
_REVISION = re.compile(r"^revision(?::[^=]*)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)?\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.MULTILINE)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations; blocking, so call it from a thread when an event loop runs."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def shipped_head() -> str:
    """The newest shipped revision, read from the version files without loading Alembic (a test
    holds it equal to Alembic's own answer)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, parent = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or parent is None:
            raise ValueError(f"{path.name}: no revision / down_revision line")
        revisions.add(revision.group(1))
        if parent.group(1):
            parents.add(parent.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise ValueError(f"the shipped migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def current_revision(url: str) -> str | None:
    """The database's revision (None before the first migration): one query, no Alembic."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
                return None
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    finally:
        await engine.dispose()
    if len(versions) > 1:
        raise ValueError(f"the database has several migration heads: {sorted(versions)}")
    return versions[0] if versions else None


def current_revision_sync(url: str) -> str | None:
    return asyncio.run(current_revision(url))


async def is_current(url: str) -> bool:
    return await current_revision(url) == shipped_head()
