"""Versioned workflows: every change locks the workflow row and writes the next version."""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import newest_last, utcnow
from talkative.errors import Conflict
from talkative.runs.models import Run, RunStep
from talkative.workflows import status
from talkative.workflows.exceptions import NodeNotFound, WorkflowNotFound
from talkative.workflows.graph import Edge, Node, NodeUpdate, WorkflowGraph, validate_graph
from talkative.workflows.models import Workflow, WorkflowVersion
from talkative.workflows.patch import AddNode, UpdateNode, WorkflowPatch, apply_patch
from talkative.workflows.schemas import VersionRead, WorkflowNodeRead, WorkflowRead
from talkative.workflows.status import NodeRuns, StepFact

AGENT_WORKFLOW_PREFIX = "agent-wf-"


def agent_workflow_id(agent_id: str) -> str:
    """A new id for an agent's workflow. Agents are (tenant, id), so the agent id alone would clash
    across tenants; a random suffix keeps it unique without telling anyone which ids are in use
    (the id still fits the 80 characters of the column with a 64-character agent id)."""
    return f"{AGENT_WORKFLOW_PREFIX}{agent_id}-{secrets.token_hex(3)}"


_LOCK = select(Workflow).where(Workflow.id == bindparam("workflow_id")).with_for_update()  # built once


async def lock(session: AsyncSession, workflow_id: str, tenant_id: str | None = None) -> Workflow:
    """Loads the workflow FOR UPDATE so concurrent writers queue (SQLite: BEGIN IMMEDIATE)."""
    workflow = await session.scalar(_LOCK, {"workflow_id": workflow_id})
    if workflow is None or (tenant_id is not None and workflow.tenant_id != tenant_id):
        raise WorkflowNotFound(workflow_id)
    return workflow


# An agent's workflow is found by its agent, (tenant, id), never by its id: built once.
_OF_AGENT = select(Workflow).where(
    Workflow.tenant_id == bindparam("tenant_id"), Workflow.agent_id == bindparam("agent_id")
)
_LOCK_OF_AGENT = _OF_AGENT.with_for_update()


async def lock_agent_workflow(session: AsyncSession, *, tenant_id: str, agent_id: str) -> Workflow:
    """The agent's workflow FOR UPDATE: the per-agent lock concurrent runs of one agent queue on."""
    workflow = await session.scalar(_LOCK_OF_AGENT, {"tenant_id": tenant_id, "agent_id": agent_id})
    if workflow is None:
        raise WorkflowNotFound(f"{AGENT_WORKFLOW_PREFIX}{agent_id}")
    return workflow


async def current_graph(session: AsyncSession, workflow: Workflow) -> WorkflowGraph:
    if workflow.version == 0:
        return WorkflowGraph()
    graph = await session.scalar(
        select(WorkflowVersion.graph).where(
            WorkflowVersion.workflow_id == workflow.id, WorkflowVersion.version == workflow.version
        )
    )
    assert graph is not None
    return WorkflowGraph.model_validate(graph)


async def _write_version(
    session: AsyncSession,
    workflow: Workflow,
    graph: WorkflowGraph,
    *,
    note: str | None,
    run_id: str | None = None,
) -> None:
    """The next version of the workflow; the workflow row points at it."""
    workflow.version, workflow.updated_at = workflow.version + 1, utcnow()
    session.add(
        WorkflowVersion(
            workflow_id=workflow.id,
            version=workflow.version,
            graph=graph.model_dump(mode="json"),
            note=note,
            run_id=run_id,
            created_at=workflow.updated_at,
        )
    )


async def save(
    session: AsyncSession,
    *,
    tenant_id: str,
    scope: str | None,
    workflow_id: str | None,
    name: str,
    nodes: list[Node],
    edges: list[Edge],
    note: str | None,
) -> Workflow:
    """Creates a workflow, or writes a new version when the id exists in the caller's scope."""
    graph = validate_graph({"nodes": nodes, "edges": edges})
    workflow = None
    if workflow_id is not None and workflow_id.startswith(AGENT_WORKFLOW_PREFIX):
        # Agents' workflows are created with the agent; the id space is not for the taking.
        existing = await session.scalar(select(Workflow).where(Workflow.id == workflow_id).with_for_update())
        if existing is None or (scope is not None and existing.tenant_id != scope):
            raise WorkflowNotFound(workflow_id)
        workflow = existing
    elif workflow_id is not None:
        existing = await session.scalar(select(Workflow).where(Workflow.id == workflow_id).with_for_update())
        if existing is not None and (scope is not None and existing.tenant_id != scope):
            raise WorkflowNotFound(workflow_id)  # never reveal another tenant's workflow
        workflow = existing
    if workflow is None:
        workflow = Workflow(id=workflow_id or await _free_id(session), tenant_id=tenant_id, name=name)
        session.add(workflow)
        workflow.version = 0
    workflow.name = name
    await _write_version(session, workflow, graph, note=note)
    return workflow


async def _free_id(session: AsyncSession) -> str:
    while True:
        candidate = f"wf-{secrets.token_hex(4)}"
        if await session.get(Workflow, candidate) is None:
            return candidate


async def apply(
    session: AsyncSession,
    *,
    workflow_id: str,
    tenant_id: str | None,
    patch: WorkflowPatch,
    note: str | None,
    run_id: str | None = None,
) -> tuple[Workflow, bool]:
    """The patch applied to the workflow's current version; True when it wrote a new one."""
    workflow = await lock(session, workflow_id, tenant_id)
    graph = await current_graph(session, workflow)
    return workflow, await apply_locked(session, workflow, graph, patch, note, run_id)


async def apply_locked(
    session: AsyncSession,
    workflow: Workflow,
    graph: WorkflowGraph,
    patch: WorkflowPatch,
    note: str | None,
    run_id: str | None = None,
) -> bool:
    """`apply` for a caller that already holds the lock and read the current graph; True when it
    wrote a version. A patch that leaves the graph as it was writes none: a repeated message
    used to leave "v3: no changes" behind, a version that told nobody anything."""
    patched = apply_patch(graph, patch)
    if patched == graph:
        return False
    await _write_version(session, workflow, patched, note=note, run_id=run_id)
    return True


async def add_node(session: AsyncSession, *, workflow_id: str, tenant_id: str | None, node: Node) -> Workflow:
    patch = WorkflowPatch(operations=[AddNode(node=node)])
    workflow, _ = await apply(
        session, workflow_id=workflow_id, tenant_id=tenant_id, patch=patch, note=f"add node {node.id}"
    )
    return workflow


async def update_node(
    session: AsyncSession, *, workflow_id: str, tenant_id: str | None, node_id: str, updates: NodeUpdate
) -> tuple[Workflow, bool]:
    """The node updated; False when the updates change nothing (no version is written)."""
    workflow = await lock(session, workflow_id, tenant_id)
    graph = await current_graph(session, workflow)
    if all(n.id != node_id for n in graph.nodes):
        raise NodeNotFound(workflow_id, node_id)
    patch = WorkflowPatch(operations=[UpdateNode(id=node_id, updates=updates)])
    return await apply(
        session, workflow_id=workflow_id, tenant_id=tenant_id, patch=patch, note=f"update node {node_id}"
    )


async def ensure_agent_workflow(
    session: AsyncSession, *, agent_id: str, tenant_id: str, name: str
) -> Workflow:
    """The agent's own workflow, created on first use; concurrent first uses create it once (the
    unique (tenant_id, agent_id) decides; an id drawn twice is drawn again)."""
    key = {"tenant_id": tenant_id, "agent_id": agent_id}
    workflow = await session.scalar(_OF_AGENT, key)
    if workflow is not None:
        return workflow
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for _ in range(5):
        now = utcnow()
        await session.execute(
            insert(Workflow)
            .values(
                id=agent_workflow_id(agent_id),
                tenant_id=tenant_id,
                agent_id=agent_id,
                name=f"{name} workflow",
                version=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        created = await session.scalar(_OF_AGENT, key)
        if created is not None:
            return created
    raise Conflict(f"could not create the workflow of agent '{agent_id}'", code="WORKFLOW_CONFLICT")


async def get(session: AsyncSession, *, workflow_id: str, tenant_id: str | None) -> Workflow:
    workflow = await session.get(Workflow, workflow_id)
    if workflow is None or (tenant_id is not None and workflow.tenant_id != tenant_id):
        raise WorkflowNotFound(workflow_id)
    return workflow


async def list_workflows(session: AsyncSession, *, tenant_id: str | None, limit: int) -> list[Workflow]:
    query = select(Workflow).order_by(Workflow.created_at.desc(), Workflow.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Workflow.tenant_id == tenant_id)
    return await newest_last(session, query)


async def versions(session: AsyncSession, *, workflow_id: str, limit: int) -> list[WorkflowVersion]:
    query = (
        select(WorkflowVersion)
        .where(WorkflowVersion.workflow_id == workflow_id)
        .order_by(WorkflowVersion.version.desc())
        .limit(limit)
    )
    return await newest_last(session, query)


def version_read(row: WorkflowVersion) -> VersionRead:
    graph = WorkflowGraph.model_validate(row.graph)
    return VersionRead(
        version=row.version,
        createdAt=row.created_at,
        note=row.note,
        run_id=row.run_id,
        nodes=graph.nodes,
        edges=graph.edges,
    )


# How many of an agent's node-linked steps a read looks at: its latest runs, plenty for a status.
_NODE_STEPS = 2000


async def node_runs(session: AsyncSession, workflow: Workflow) -> dict[str, NodeRuns]:
    """The status and latest runs of each node of an agent's workflow, from its runs' steps."""
    if workflow.agent_id is None:
        return {}
    query = (
        select(RunStep.node_id, RunStep.run_id, RunStep.status, Run.status)
        .join(Run, Run.id == RunStep.run_id)
        .where(
            Run.tenant_id == workflow.tenant_id,
            Run.agent_id == workflow.agent_id,
            RunStep.node_id.is_not(None),
        )
        .order_by(Run.created_at.desc(), Run.id.desc(), RunStep.idx)
        .limit(_NODE_STEPS)
    )
    rows = (await session.execute(query)).all()
    return status.node_runs(
        StepFact(str(node), run, step, run_status) for node, run, step, run_status in rows
    )


def _node_read(node: Node, runs: NodeRuns | None) -> WorkflowNodeRead:
    read = WorkflowNodeRead(**node.model_dump())
    if runs is not None:
        read.status, read.runIds = runs.status, runs.run_ids
    return read


async def read(
    session: AsyncSession, workflow: Workflow, *, with_versions: int | None = None
) -> WorkflowRead:
    graph = await current_graph(session, workflow)
    ran = await node_runs(session, workflow)
    history = None
    if with_versions:
        history = [
            version_read(v) for v in await versions(session, workflow_id=workflow.id, limit=with_versions)
        ]
    return WorkflowRead(
        id=workflow.id,
        tenant_id=workflow.tenant_id,
        agent_id=workflow.agent_id,
        name=workflow.name,
        version=workflow.version,
        createdAt=workflow.created_at,
        updatedAt=workflow.updated_at,
        nodes=[_node_read(node, ran.get(node.id)) for node in graph.nodes],
        edges=graph.edges,
        versions=history,
    )
