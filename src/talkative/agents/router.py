from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from talkative.agents import files, flows, service
from talkative.agents.dependencies import valid_agent
from talkative.agents.models import Agent
from talkative.agents.schemas import (
    AgentCreate,
    AgentPage,
    AgentRead,
    AgentUpdate,
    SkillAttach,
    SkillAttached,
    WorkspaceFile,
    WorkspaceFiles,
)
from talkative.auth.dependencies import Operator, Reader
from talkative.auth.policy import Permission, allows
from talkative.db import Session
from talkative.deps import Limit, RuntimeDep
from talkative.errors import ERROR_RESPONSES, Forbidden
from talkative.events import service as events
from talkative.events.params import BeforePosition
from talkative.events.schemas import EventPage
from talkative.skills.schemas import SkillPage
from talkative.workflows import service as workflows
from talkative.workflows.schemas import WorkflowRead

router = APIRouter(prefix="/agents", tags=["agents"], responses=ERROR_RESPONSES)
ValidAgent = Annotated[Agent, Depends(valid_agent)]
FilePath = Annotated[str, Path(description="Relative to the folder, `/`-separated; links are not followed")]
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("", operation_id="listAgents")
async def list_agents(session: Session, principal: Reader, limit: Limit = 100) -> AgentPage:
    agents = await service.list_agents(session=session, tenant_id=principal.tenant_filter, limit=limit)
    return AgentPage(agents=[service.to_read(a) for a in agents])


@router.post("", status_code=201, operation_id="createAgent")
async def create_agent(
    body: AgentCreate, session: Session, principal: Operator, runtime: RuntimeDep
) -> AgentRead:
    agent = await flows.create_agent(
        session=session,
        tenant_id=principal.owning_tenant(body.tenant_id),
        data=body,
        workspaces_dir=runtime.settings.workspaces_dir,
        actor=principal.sub,
    )
    return service.to_read(agent)


@router.get("/{agent_id}", operation_id="getAgent")
async def get_agent(agent: ValidAgent) -> AgentRead:
    return service.to_read(agent)


@router.patch("/{agent_id}", operation_id="updateAgent")
async def update_agent(
    agent: ValidAgent, body: AgentUpdate, session: Session, _: Operator, runtime: RuntimeDep
) -> AgentRead:
    """Renames the agent or changes its heartbeat interval (fields left out stay as they are)."""
    updated = await service.update_agent(
        session=session, agent=agent, data=body, workspaces_dir=runtime.settings.workspaces_dir
    )
    return service.to_read(updated)


@router.delete("/{agent_id}", status_code=204, operation_id="deleteAgent")
async def delete_agent(agent: ValidAgent, session: Session, _: Operator, runtime: RuntimeDep) -> None:
    """Removes a stopped agent with no unfinished run (its events and runs stay as history)."""
    await flows.delete_agent(session=session, agent=agent, workspaces_dir=runtime.settings.workspaces_dir)


@router.post("/{agent_id}/start", operation_id="startAgent")
async def start_agent(agent: ValidAgent, session: Session, _: Operator) -> AgentRead:
    return service.to_read(await service.set_running(session=session, agent=agent, running=True))


@router.post("/{agent_id}/stop", operation_id="stopAgent")
async def stop_agent(agent: ValidAgent, session: Session, _: Operator) -> AgentRead:
    return service.to_read(await service.set_running(session=session, agent=agent, running=False))


@router.get("/{agent_id}/events", operation_id="getAgentEvents")
async def agent_events(
    agent: ValidAgent,
    session: Session,
    tail: Annotated[int, Query(ge=1, le=1000, description="At most this many events")] = 50,
    before: BeforePosition = None,
) -> EventPage:
    """The agent's newest `tail` events (before `before`), oldest first, in stream order.

    Page backwards with `before=next_before` while `has_more`; the newest page's `live_after` is
    where the SSE stream (`GET /events?agent_id=...&after=`) goes on without a gap (drop by id the
    few events it may repeat)."""
    start = None if before is None else await events.position_before(session, before)
    found = await events.history(
        session, tenant_id=agent.tenant_id, agent_id=agent.id, before=start, limit=tail
    )
    return events.page(found)


@router.get("/{agent_id}/skills", operation_id="getAgentSkills")
async def agent_skills(agent: ValidAgent, session: Session, runtime: RuntimeDep) -> SkillPage:
    """The skills in the agent's workspace, each with its trust: only `trusted` ones run."""
    return await service.agent_skill_page(
        session=session, agent=agent, workspaces_dir=runtime.settings.workspaces_dir
    )


@router.post("/{agent_id}/skills/attach", operation_id="attachSkill")
async def attach_skill(
    agent: ValidAgent, body: SkillAttach, session: Session, principal: Operator, runtime: RuntimeDep
) -> SkillAttached:
    """Installs a bundled template, or vouches for a skill already in the workspace, and pins it:
    its files as they are now are what may run (re-attach after changing them). With
    `allowNetwork` (admins only) its runs may reach the hosts its SKILL.md declares."""
    if body.allowNetwork and not allows(principal.role, Permission.ALLOW_EGRESS):
        raise Forbidden("only an admin may allow a skill the network", code="ROLE_FORBIDDEN")
    result = await service.attach_skill(
        session=session,
        agent=agent,
        skill_name=body.skillName,
        workspaces_dir=runtime.settings.workspaces_dir,
        actor=principal.sub,
        allow_network=body.allowNetwork,
    )
    return SkillAttached(skillName=result.name, seeded=result.seeded, heartbeatAdded=result.heartbeat_added)


@router.get("/{agent_id}/workflow", operation_id="getAgentWorkflow")
async def agent_workflow(
    agent: ValidAgent, session: Session, limit: Annotated[int, Query(ge=1, le=1000)] = 20
) -> WorkflowRead:
    workflow = await workflows.ensure_agent_workflow(
        session, agent_id=agent.id, tenant_id=agent.tenant_id, name=agent.name
    )
    return await workflows.read(session, workflow, with_versions=limit)


@router.get("/{agent_id}/files", operation_id="listAgentFiles")
async def list_agent_files(agent: ValidAgent, runtime: RuntimeDep) -> WorkspaceFiles:
    """The regular files in the workspace's `inputs/` and `outputs/`, and its quota."""
    return await files.list_files(
        agent=agent,
        workspaces_dir=runtime.settings.workspaces_dir,
        limits=runtime.tool_limits,
        max_body_bytes=runtime.settings.max_body_bytes,
    )


@router.get(
    "/{agent_id}/files/{folder}/{path:path}",
    operation_id="downloadAgentFile",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"}},
)
async def download_agent_file(
    agent: ValidAgent, folder: files.Folder, path: FilePath, runtime: RuntimeDep
) -> StreamingResponse:
    handle, size = await files.open_download(
        agent=agent, workspaces_dir=runtime.settings.workspaces_dir, folder=folder, path=path
    )
    name = path.rsplit("/", 1)[-1]
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        files.read_chunks(handle), media_type="application/octet-stream", headers=headers
    )


@router.put(
    "/{agent_id}/files/{folder}/{path:path}",
    status_code=201,
    operation_id="uploadAgentInput",
    openapi_extra=UPLOAD_BODY,
)
async def upload_agent_input(
    agent: ValidAgent,
    folder: Annotated[Literal["inputs"], Path(description="Uploads go to `inputs/` only")],
    path: FilePath,
    request: Request,
    _: Operator,
    runtime: RuntimeDep,
) -> WorkspaceFile:
    """Writes the request body to `inputs/<name>` (replacing a file of that name) if the
    workspace's quota has room; 413 when it has not, or the body is over the size limit."""
    return await files.upload_input(
        agent=agent,
        workspaces_dir=runtime.settings.workspaces_dir,
        name=path,
        content=await request.body(),
        limits=runtime.tool_limits,
    )
