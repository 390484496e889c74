"""Alembic migrations, shipped inside the package so `talkative migrate` works from a wheel.

Alembic (with Mako) costs ~10 MB of a process's memory for good, so only what changes a schema
loads it: the server learns whether its database is current with one query and the version files'
own `revision` lines, and `talkative serve` applies pending migrations in a short-lived child
process (`python -m talkative.migrations`, the URL on stdin) before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
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


@contextlib.contextmanager
def quiet_alembic() -> Iterator[None]:
    """Alembic logs every step at INFO ("Context impl SQLiteImpl.", "Will assume non-transactional
    DDL.", "Running upgrade a -> b"): noise on an operator's terminal. Commands that migrate say
    what happened in one line of their own instead; Alembic's warnings and errors still show."""
    logger = logging.getLogger("alembic")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


def migrate_to(url: str, revision: str = "head") -> str:
    """Move the database to REVISION: upgrade when it is newer than the database's, downgrade when
    it is older (a rollback). Says which it did: "upgrade", "downgrade" or "none"."""
    from alembic.script import ScriptDirectory

    current = current_revision_sync(url)
    scripts = ScriptDirectory.from_config(alembic_config(url))
    if revision == "base":
        if current is None:
            return "none"
        downgrade(url, "base")
        return "downgrade"
    target = scripts.get_revision(revision)  # raises for a revision this code does not know
    assert target is not None
    if target.revision == current:
        return "none"
    if current is not None:
        older = {r.revision for r in scripts.iterate_revisions(current, "base")} - {current}
        if target.revision in older:
            downgrade(url, target.revision)
            return "downgrade"
    upgrade(url, target.revision)
    return "upgrade"


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def shipped_head() -> str:
    """The newest shipped revision, read from the version files without loading Alembic (a test
    holds it equal to Alembic's own answer)."""
    return head_of({path.name: path.read_text(encoding="utf-8") for path in VERSIONS_DIR.glob("*.py")})


def revisions_of(sources: dict[str, str]) -> dict[str, str | None]:
    """Each version file's revision and its parent (None for the first), from the files' text
    (by file name): the shipped files, or those of another commit (`talkative release-notes`)."""
    found: dict[str, str | None] = {}
    for name, source in sources.items():
        revision, parent = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or parent is None:
            raise ValueError(f"{name}: no revision / down_revision line")
        found[revision.group(1)] = parent.group(1) or None
    return found


def head_of(sources: dict[str, str]) -> str:
    revisions = revisions_of(sources)
    heads = set(revisions) - {parent for parent in revisions.values() if parent}
    if len(heads) != 1:
        raise ValueError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
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
