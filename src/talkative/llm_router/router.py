from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from talkative.auth.dependencies import Reader, RouterAdmin
from talkative.db import Session
from talkative.errors import ERROR_RESPONSES, Forbidden
from talkative.llm_router import config, ledger
from talkative.llm_router.budgets import Budgets, scoped
from talkative.llm_router.dependencies import Providers
from talkative.llm_router.metrics import router_metrics
from talkative.llm_router.providers.base import Provider
from talkative.llm_router.rules import Rules, falls_back
from talkative.llm_router.schemas import BudgetsRead, RouterMetrics, RulesRead, UsagePage, UsageRead

router = APIRouter(
    prefix="/router", tags=["llm-router"], responses={**ERROR_RESPONSES, 402: ERROR_RESPONSES[409]}
)
Doc = Annotated[dict[str, Any], Body()]


def _rules_read(rules: Rules, providers: Mapping[str, Provider]) -> RulesRead:
    doc = rules.model_dump(mode="json")
    configured = {name: provider.configured() for name, provider in providers.items()}
    return RulesRead(
        default_model=doc["default_model"],
        routes=doc["routes"],
        prices=doc["prices"],
        providers=configured,
        falls_back=falls_back(rules, {name for name, ok in configured.items() if ok}),
    )


@router.get("/admin/rules", operation_id="getRouterRules")
async def get_rules(session: Session, _: Reader, providers: Providers) -> RulesRead:
    return _rules_read(await config.rules(session), providers)


@router.put("/admin/rules", operation_id="putRouterRules")
async def put_rules(body: Doc, session: Session, principal: RouterAdmin, providers: Providers) -> RulesRead:
    """Validates everything (422 naming the field); the rules in force change only if all is valid.

    The rules route every tenant's calls, so only a platform admin (no tenant in the token) may
    change them."""
    if principal.tenant_filter is not None:
        raise Forbidden("routing rules are platform-wide: only a platform admin can change them")
    saved = await config.save_rules(session, body, known_providers=set(providers), by=principal.sub)
    return _rules_read(saved, providers)


async def _budgets_read(session: Session, budgets: Budgets, tenant_scope: str | None) -> BudgetsRead:
    view = scoped(budgets, tenant_scope) if tenant_scope is not None else budgets
    doc = view.model_dump(mode="json")
    spend: dict[str, Any] = {"tenants": {}, "agents": {}}
    for tenant in sorted(set(view.tenants) | ({tenant_scope} if tenant_scope else set())):
        s = await ledger.spend(session, tenant_id=tenant, agent_id=None)
        spend["global_day"] = s.global_day
        spend["tenants"][tenant] = {"day": s.tenant_day, "month": s.tenant_month}
    for tenant, agents in view.agents.items():
        for agent in agents:
            s = await ledger.spend(session, tenant_id=tenant, agent_id=agent)
            spend["agents"].setdefault(tenant, {})[agent] = {"day": s.agent_day, "month": s.agent_month}
    if "global_day" not in spend:
        spend["global_day"] = (await ledger.spend(session, tenant_id="", agent_id=None)).global_day
    if tenant_scope is not None:
        spend.pop("global_day")  # the platform-wide total is not a tenant's business
    return BudgetsRead(
        global_daily_cost_cap_usd=doc["global_daily_cost_cap_usd"],
        tenants=doc["tenants"],
        agents=doc["agents"],
        spend=spend,
    )


TenantQuery = Annotated[str | None, Query(max_length=64)]


@router.get("/admin/budgets", operation_id="getRouterBudgets")
async def get_budgets(session: Session, principal: Reader, tenant_id: TenantQuery = None) -> BudgetsRead:
    """The caps, with current spend next to each: a tenant's own (a platform admin may name one)."""
    scope = principal.scope_for(tenant_id)
    return await _budgets_read(session, await config.budgets(session), scope)


@router.put("/admin/budgets", operation_id="putRouterBudgets")
async def put_budgets(
    body: Doc, session: Session, principal: RouterAdmin, tenant_id: TenantQuery = None
) -> BudgetsRead:
    """A platform admin replaces the budgets (or, naming a tenant, that tenant's caps); a tenant's
    admin replaces its own tenant's caps only. Agent caps are keyed by tenant, then agent id."""
    scope = principal.scope_for(tenant_id)
    saved = await config.save_budgets(session, body, tenant_scope=scope, by=principal.sub)
    return await _budgets_read(session, saved, scope)


@router.get("/admin/usage", operation_id="getRouterUsage")
async def usage(
    session: Session,
    principal: Reader,
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> UsagePage:
    rows = await ledger.usage(
        session,
        tenant_id=principal.scope_for(tenant_id),
        agent_id=agent_id,
        since=_utc(from_),
        until=_utc(to),
        limit=limit,
    )
    return UsagePage(usage=[UsageRead.model_validate(r, from_attributes=True) for r in rows])


def _utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@router.get("/metrics", operation_id="getRouterMetrics")
async def metrics(session: Session, principal: Reader) -> RouterMetrics:
    """Requests, tokens, cost and error rate: in total, per model, per day, per tenant and per agent."""
    return await router_metrics(session, tenant_id=principal.tenant_filter)
