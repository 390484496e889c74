"""Rules and budgets in force: the newest saved version of each (a failed save changes nothing)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import utcnow
from talkative.llm_router.budgets import Budgets, validate_budgets
from talkative.llm_router.models import RouterConfig
from talkative.llm_router.rules import Rules, validate_rules


async def _latest(session: AsyncSession, kind: str) -> dict[str, Any] | None:
    row = await session.scalar(
        select(RouterConfig).where(RouterConfig.kind == kind).order_by(RouterConfig.id.desc()).limit(1)
    )
    return row.doc if row is not None else None


async def rules(session: AsyncSession, *, known_providers: set[str]) -> Rules:
    doc = await _latest(session, "rules")
    return validate_rules(doc, known_providers=known_providers) if doc is not None else Rules()


async def budgets(session: AsyncSession) -> Budgets:
    doc = await _latest(session, "budgets")
    return validate_budgets(doc) if doc is not None else Budgets()


async def save_rules(
    session: AsyncSession, data: dict[str, Any], *, known_providers: set[str], by: str
) -> Rules:
    valid = validate_rules(data, known_providers=known_providers)  # raises before anything is written
    session.add(
        RouterConfig(kind="rules", doc=valid.model_dump(mode="json"), created_by=by, created_at=utcnow())
    )
    await session.flush()
    return valid


async def save_budgets(session: AsyncSession, data: dict[str, Any], *, by: str) -> Budgets:
    valid = validate_budgets(data)
    session.add(
        RouterConfig(kind="budgets", doc=valid.model_dump(mode="json"), created_by=by, created_at=utcnow())
    )
    await session.flush()
    return valid
