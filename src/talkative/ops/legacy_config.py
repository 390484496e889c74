"""Legacy import of workflows, prompts, router rules, budgets and usage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import utcnow
from talkative.errors import InvalidInput
from talkative.llm_router import ledger
from talkative.llm_router.budgets import validate_budgets
from talkative.llm_router.models import RouterConfig, UsageRow
from talkative.llm_router.providers.base import build_providers, close_providers
from talkative.llm_router.rules import LOCAL, validate_rules
from talkative.ops.legacy_agents import Job, agent_tenants, existing
from talkative.ops.legacy_read import (
    DEFAULT_TENANT,
    IMPORT_ACTOR,
    LegacyPrompt,
    LegacyUsage,
    LegacyWorkflow,
    LegacyWorkflowVersion,
    check,
    label,
    read_document,
    read_json,
    read_jsonl,
)
from talkative.prompts.models import Prompt
from talkative.workflows.graph import GraphError, WorkflowGraph, validate_graph
from talkative.workflows.models import Workflow, WorkflowVersion
from talkative.workflows.service import AGENT_WORKFLOW_PREFIX

UsageKey = tuple[str, str | None, datetime, str, int]  # (tenant, agent, created_at, model, tokens)


async def import_workflows(job: Job, session: AsyncSession) -> None:
    """`workflows.json` -> workflows (by id) and their versions (by workflow id and number)."""
    report = job.report
    records = read_document(job.source / "workflows.json", "workflows", LegacyWorkflow, "workflows", report)
    if records is None:
        return
    workflows, versions = report.kind("workflows"), report.kind("workflow_versions")
    versions.present = True
    tenants = await agent_tenants(session)
    now = utcnow()
    for where, rec in records:
        graphs: list[tuple[LegacyWorkflowVersion, WorkflowGraph]] = []
        for i, raw in enumerate(rec.versions):
            at = f"{where}.versions[{i}]"
            version = check(LegacyWorkflowVersion, raw, at, "workflow_versions", report)
            if version is None:
                continue
            try:
                graphs.append((version, validate_graph({"nodes": version.nodes, "edges": version.edges})))
            except GraphError as exc:
                report.malformed("workflow_versions", at, str(exc))
        agent_id = (
            rec.id.removeprefix(AGENT_WORKFLOW_PREFIX) if rec.id.startswith(AGENT_WORKFLOW_PREFIX) else None
        )
        tenant = tenants.get(agent_id or "", DEFAULT_TENANT)
        workflow = await session.get(Workflow, rec.id)
        if workflow is None and agent_id is not None:
            # The agent's own workflow may exist under a newer id (created on first use): one per agent.
            mine = select(Workflow).where(Workflow.tenant_id == tenant, Workflow.agent_id == agent_id)
            workflow = await session.scalar(mine)
        if workflow is None:
            created = rec.createdAt or now
            workflow = Workflow(
                id=rec.id,
                tenant_id=tenant,
                agent_id=agent_id,
                name=rec.name,
                version=0,
                created_at=created,
                updated_at=rec.updatedAt or created,
            )
            session.add(workflow)
            await session.flush()
            workflows.imported += 1
        else:
            workflows.skipped += 1
        stored = set(
            await session.scalars(
                select(WorkflowVersion.version).where(WorkflowVersion.workflow_id == rec.id)
            )
        )
        for version, graph in sorted(graphs, key=lambda pair: pair[0].version):
            if version.version in stored:
                versions.skipped += 1
                continue
            session.add(
                WorkflowVersion(
                    workflow_id=rec.id,
                    version=version.version,
                    graph=graph.model_dump(mode="json"),
                    note=version.note,
                    run_id=None,
                    created_at=version.createdAt or workflow.created_at,
                )
            )
            stored.add(version.version)
            workflow.version = max(workflow.version, version.version)
            versions.imported += 1
        await session.flush()


async def import_prompts(job: Job, session: AsyncSession) -> None:
    """`prompts/registry.json` -> prompts, by id or (tenant, agent, version); one active per agent."""
    report = job.report
    path = job.source / "prompts" / "registry.json"
    records = read_document(path, "prompts", LegacyPrompt, "prompts", report)
    if records is None:
        return
    counts = report.kind("prompts")
    ids = await existing(session, Prompt.id, (r.id for _, r in records))
    agents = {r.agent_id for _, r in records}
    rows = (
        await session.execute(
            select(Prompt.tenant_id, Prompt.agent_id, Prompt.version, Prompt.is_active).where(
                Prompt.agent_id.in_(agents)
            )
        )
    ).all()
    keys = {(r.tenant_id, r.agent_id, r.version) for r in rows}
    active = {(r.tenant_id, r.agent_id) for r in rows if r.is_active}
    # The legacy registry's active version, per agent (the newest, if it marks several).
    chosen: dict[tuple[str, str], int] = {}
    for _, rec in records:
        if rec.is_active:
            agent = (rec.tenant, rec.agent_id)
            chosen[agent] = max(chosen.get(agent, 0), rec.version)
    for where, rec in sorted(records, key=lambda pair: pair[1].version):
        agent, key = (rec.tenant, rec.agent_id), (rec.tenant, rec.agent_id, rec.version)
        if rec.id in ids or key in keys:
            counts.skipped += 1
            continue
        activate = rec.is_active and chosen.get(agent) == rec.version and agent not in active
        if rec.is_active and not activate:
            report.problems.append(
                f"{where}: imported inactive (agent {rec.agent_id} has another active prompt)"
            )
        session.add(
            Prompt(
                id=rec.id,
                tenant_id=rec.tenant,
                agent_id=rec.agent_id,
                version=rec.version,
                template=rec.template,
                is_active=activate,
                created_at=rec.created_at,
            )
        )
        await session.flush()  # one row at a time: the one-active index sees each as it comes
        ids.add(rec.id)
        keys.add(key)
        if activate:
            active.add(agent)
        counts.imported += 1


async def _save_config(job: Job, session: AsyncSession, kind: str, doc: dict[str, Any]) -> None:
    """A new RouterConfig version, unless a version with the very same document exists."""
    counts = job.report.kind(f"router_{kind}")
    stored = (await session.scalars(select(RouterConfig.doc).where(RouterConfig.kind == kind))).all()
    if doc in stored:
        counts.skipped += 1
        return
    session.add(RouterConfig(kind=kind, doc=doc, created_by=IMPORT_ACTOR, created_at=utcnow()))
    await session.flush()
    counts.imported += 1


# The POC's router sent a bare model name ("gpt-4o-mini") to OpenAI, its only remote provider.
BARE_MODEL_PROVIDER = "openai"


def _qualified(name: object) -> object:
    if isinstance(name, str) and name and name != LOCAL and "/" not in name:
        return f"{BARE_MODEL_PROVIDER}/{name}"
    return name


def qualify_bare_models(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The rules with every bare model name as `openai/<name>`, and what was changed (pure).

    The POC's own rules name models bare; refusing them lost the rules on import."""
    doc, changed = dict(data), []
    model = doc.get("default_model")
    if _qualified(model) != model:
        doc["default_model"] = _qualified(model)
        changed.append(f"default_model '{model}' -> '{doc['default_model']}'")
    if isinstance(doc.get("routes"), list):
        routes = []
        for i, route in enumerate(doc["routes"]):
            if isinstance(route, Mapping) and _qualified(route.get("model")) != route.get("model"):
                route = {**route, "model": _qualified(route["model"])}
                changed.append(f"routes[{i}].model '{data['routes'][i]['model']}' -> '{route['model']}'")
            routes.append(route)
        doc["routes"] = routes
    if isinstance(doc.get("prices"), Mapping):
        prices = {}
        for name, price in doc["prices"].items():
            prices[str(_qualified(name))] = price
            if _qualified(name) != name:
                changed.append(f"prices '{name}' -> '{_qualified(name)}'")
        doc["prices"] = prices
    return doc, changed


async def import_rules(job: Job, session: AsyncSession) -> None:
    path = job.source / "llm-router" / "rules.json"
    data = read_json(path, "router_rules", job.report)
    if data is None:
        return
    changed: list[str] = []
    if isinstance(data, Mapping):
        data, changed = qualify_bare_models(data)
    providers = build_providers({})
    try:
        known = set(providers)
    finally:
        await close_providers(providers)
    try:
        if not isinstance(data, Mapping):
            raise InvalidInput("rules: must be an object")
        rules = validate_rules(data, known_providers=known)
    except InvalidInput as exc:
        job.report.malformed("router_rules", label(job.report, path), f"invalid rules: {exc}")
        return
    where = label(job.report, path)
    job.report.changes += [f"{where}: bare model name taken as OpenAI's: {c}" for c in changed]
    await _save_config(job, session, "rules", rules.model_dump(mode="json"))


async def import_budgets(job: Job, session: AsyncSession) -> None:
    path = job.source / "llm-router" / "budgets.json"
    data = read_json(path, "router_budgets", job.report)
    if data is None:
        return
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "updated_at"}  # bookkeeping, not a cap
        data["agents"] = await _agent_caps_with_tenants(session, data.get("agents"))
    try:
        budgets = validate_budgets(data)
    except InvalidInput as exc:
        job.report.malformed("router_budgets", label(job.report, path), f"invalid budgets: {exc}")
        return
    await _save_config(job, session, "budgets", budgets.model_dump(mode="json"))


async def _agent_caps_with_tenants(session: AsyncSession, agents: object) -> object:
    """Legacy agent caps may name no tenant: they belong to the agent's tenant (caps are keyed by
    tenant and agent now)."""
    if not isinstance(agents, dict):
        return agents if agents is not None else {}
    tenants = await agent_tenants(session)
    return {
        agent_id: (
            {**caps, "tenant_id": tenants.get(agent_id, DEFAULT_TENANT)}
            if isinstance(caps, dict) and not caps.get("tenant_id")
            else caps
        )
        for agent_id, caps in agents.items()
    }


async def import_usage(job: Job, session: AsyncSession) -> None:
    """`llm-router/usage.jsonl` -> the ledger and its daily rollup, on the day each call happened."""
    path = job.source / "llm-router" / "usage.jsonl"
    records = read_jsonl(path, LegacyUsage, "usage", job.report)
    counts = job.report.kind("usage")
    if not records:
        return
    low, high = min(r.created_at for _, r in records), max(r.created_at for _, r in records)
    query = select(
        UsageRow.tenant_id, UsageRow.agent_id, UsageRow.created_at, UsageRow.model, UsageRow.tokens
    )
    query = query.where(UsageRow.created_at >= low, UsageRow.created_at <= high)
    seen: set[UsageKey] = {tuple(r) for r in (await session.execute(query)).all()}  # type: ignore[misc]
    for _, rec in sorted(records, key=lambda pair: pair[1].created_at):
        key = (rec.tenant, rec.agent_id, rec.created_at, rec.model, rec.tokens)
        if key in seen:
            counts.skipped += 1
            continue
        # What ledger.record does, with the legacy time: the rollup is credited to the call's day.
        row = UsageRow(
            tenant_id=rec.tenant,
            agent_id=rec.agent_id,
            run_id=None,
            model=rec.model,
            status="reserved",
            cost=0.0,
            created_at=rec.created_at,
        )
        session.add(row)
        await ledger.settle(
            session,
            row,
            status=rec.status,
            prompt_tokens=rec.tokens,  # the legacy ledger kept the total only
            completion_tokens=0,
            cost=rec.cost,
            latency_ms=rec.latency_ms,
            error="legacy call failed" if rec.status == "error" else None,
        )
        seen.add(key)
        counts.imported += 1
