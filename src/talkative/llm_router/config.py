"""Rules and budgets in force: the newest saved version of each (a failed save changes nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import core_execute, utcnow
from talkative.llm_router import ledger
from talkative.llm_router.budgets import Budgets, tenant_update, validate_budgets
from talkative.llm_router.models import RouterConfig
from talkative.llm_router.rules import Rules, validate_rules

# The newest version of each kind, both in one statement (index on kind, id).
_NEWEST_IDS = select(func.max(RouterConfig.id)).group_by(RouterConfig.kind).scalar_subquery()
_LATEST = select(RouterConfig.id, RouterConfig.kind, RouterConfig.created_at, RouterConfig.doc).where(
    RouterConfig.id.in_(_NEWEST_IDS)
)
_LATEST_BUDGETS = (
    select(RouterConfig.id, RouterConfig.kind, RouterConfig.created_at, RouterConfig.doc)
    .where(RouterConfig.kind == "budgets")
    .order_by(RouterConfig.id.desc())
    .limit(1)
)
# A saved version never changes, so one parsed once stays valid. The key includes the save time:
# ids alone repeat across databases (tests, a restored backup).
_parsed: dict[tuple[int, datetime], Rules | Budgets] = {}
_PARSED_KEEP = 64


async def current(session: AsyncSession) -> tuple[Rules, Budgets]:
    """The rules and budgets in force, validated once per saved version.

    Provider names were checked when the rules were saved and are not checked again: a route to a
    provider this server does not have (any more) falls back to local rather than breaking reads."""
    found: dict[str, Rules | Budgets] = {}
    for config_id, kind, created_at, doc in (await core_execute(session, _LATEST)).all():
        found[kind] = _parsed_doc(config_id, kind, created_at, doc)
    rules, budgets = found.get("rules"), found.get("budgets")
    return (
        rules if isinstance(rules, Rules) else Rules(),
        budgets if isinstance(budgets, Budgets) else Budgets(),
    )


def _parsed_doc(config_id: int, kind: str, created_at: datetime, doc: dict[str, Any]) -> Rules | Budgets:
    key = (config_id, created_at)
    if key not in _parsed:
        if len(_parsed) >= _PARSED_KEEP:
            _parsed.clear()
        _parsed[key] = (
            validate_rules(doc, known_providers=None)
            if kind == "rules"
            else validate_budgets(doc, stored=True)
        )
    return _parsed[key]


async def rules(session: AsyncSession) -> Rules:
    return (await current(session))[0]


async def budgets(session: AsyncSession) -> Budgets:
    """The budgets in force alone (the rules, which name providers, are not read)."""
    row = (await core_execute(session, _LATEST_BUDGETS)).first()
    if row is None:
        return Budgets()
    parsed = _parsed_doc(row.id, row.kind, row.created_at, row.doc)
    return parsed if isinstance(parsed, Budgets) else Budgets()


async def save_rules(
    session: AsyncSession, data: dict[str, Any], *, known_providers: set[str], by: str
) -> Rules:
    valid = validate_rules(data, known_providers=known_providers)  # raises before anything is written
    session.add(
        RouterConfig(kind="rules", doc=valid.model_dump(mode="json"), created_by=by, created_at=utcnow())
    )
    await session.flush()
    return valid


async def save_budgets(
    session: AsyncSession, data: dict[str, Any], *, tenant_scope: str | None, by: str
) -> Budgets:
    """A platform admin (no `tenant_scope`) replaces the budgets; a tenant's admin its own caps.

    Waits for the holds in flight (they were checked against the caps in force), and reads the
    current caps under the same lock, so two admins saving at once cannot lose each other's caps.
    """
    submitted = validate_budgets(data, tenant=tenant_scope)  # raises before anything is written
    await ledger.lock_caps_for_change(session)
    if tenant_scope is None:
        return await _save_budgets(session, submitted, by=by)
    merged = tenant_update(await budgets(session), submitted, tenant_scope)
    return await _save_budgets(session, merged, by=by)


async def _save_budgets(session: AsyncSession, valid: Budgets, *, by: str) -> Budgets:
    session.add(
        RouterConfig(kind="budgets", doc=valid.model_dump(mode="json"), created_by=by, created_at=utcnow())
    )
    await session.flush()
    return valid
