from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from talkative.auth.dependencies import Operator, Reader
from talkative.db import Session
from talkative.deps import Limit
from talkative.errors import ERROR_RESPONSES
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.workflows import service
from talkative.workflows.models import Workflow
from talkative.workflows.schemas import NodeCreate, NodePatch, WorkflowPage, WorkflowRead, WorkflowWrite

router = APIRouter(tags=["workflows"], responses=ERROR_RESPONSES)
WorkflowIdPath = Annotated[str, Path(min_length=1, max_length=80)]
NodeIdPath = Annotated[str, Path(min_length=1, max_length=80)]


async def _announce(session: Session, workflow: Workflow, note: str | None) -> None:
    await events.append(
        session,
        [
            NewEvent(
                type=EventType.WORKFLOW_VERSION_CREATED,
                tenant_id=workflow.tenant_id,
                agent_id=workflow.agent_id,
                message=f"workflow {workflow.id} is now at version {workflow.version}",
                payload={"workflowId": workflow.id, "version": workflow.version, "note": note},
            )
        ],
    )


@router.post("/workflow", status_code=201, operation_id="saveWorkflow")
async def save_workflow(body: WorkflowWrite, session: Session, principal: Operator) -> WorkflowRead:
    """Creates a workflow, or saves a new version when `id` names an existing one."""
    workflow = await service.save(
        session,
        tenant_id=principal.owning_tenant(body.tenant_id),
        scope=principal.tenant_filter,
        workflow_id=body.id,
        name=body.name,
        nodes=body.nodes,
        edges=body.edges,
        note=body.note,
    )
    await _announce(session, workflow, body.note)
    return await service.read(session, workflow)


@router.get("/workflow/{workflow_id}", operation_id="getWorkflow")
async def get_workflow(
    workflow_id: WorkflowIdPath, session: Session, principal: Reader, limit: Limit = 50
) -> WorkflowRead:
    """The workflow's current graph and its newest `limit` versions."""
    workflow = await service.get(session, workflow_id=workflow_id, tenant_id=principal.tenant_filter)
    return await service.read(session, workflow, with_versions=limit)


@router.get("/workflows", operation_id="listWorkflows")
async def list_workflows(session: Session, principal: Reader, limit: Limit = 100) -> WorkflowPage:
    rows = await service.list_workflows(session, tenant_id=principal.tenant_filter, limit=limit)
    return WorkflowPage(workflows=[await service.read(session, w) for w in rows])


@router.post("/node", status_code=201, operation_id="addNode")
async def add_node(body: NodeCreate, session: Session, principal: Operator) -> WorkflowRead:
    workflow = await service.add_node(
        session, workflow_id=body.workflowId, tenant_id=principal.tenant_filter, node=body.node
    )
    await _announce(session, workflow, f"add node {body.node.id}")
    return await service.read(session, workflow)


@router.patch("/node/{node_id}", operation_id="updateNode")
async def update_node(
    node_id: NodeIdPath, body: NodePatch, session: Session, principal: Operator
) -> WorkflowRead:
    workflow, changed = await service.update_node(
        session,
        workflow_id=body.workflowId,
        tenant_id=principal.tenant_filter,
        node_id=node_id,
        updates=body.updates,
    )
    if changed:  # updates that change nothing write no version, so there is none to announce
        await _announce(session, workflow, f"update node {node_id}")
    return await service.read(session, workflow)
