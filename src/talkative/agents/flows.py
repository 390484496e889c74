"""Work on an agent that spans domains: creating an agent with its workflow and default prompt,
deleting it with its workflow and prompts (refused while one of its runs is unfinished).

`agents/service.py` keeps the agent's own rows (skills, pins) and workspace; these flows add what
other domains hold of an agent, in the caller's unit of work.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents import service as agents
from talkative.agents.models import Agent
from talkative.agents.schemas import AgentCreate
from talkative.errors import Conflict
from talkative.prompts import service as prompts
from talkative.prompts.models import Prompt
from talkative.runs.models import Run
from talkative.runs.reducer import TERMINAL
from talkative.workflows import service as workflows
from talkative.workflows.models import Workflow


async def create_agent(
    *, session: AsyncSession, tenant_id: str, data: AgentCreate, workspaces_dir: Path, actor: str
) -> Agent:
    """Creates the agent in `tenant_id` with its workflow, its default prompt and its workspace
    (with the template's skill, if asked for); ids and workspace folders are only unique within a
    tenant, so nothing here depends on (or tells) what other tenants hold."""
    new = await agents.add_agent(session=session, tenant_id=tenant_id, data=data)
    agent = new.agent
    await workflows.ensure_agent_workflow(session, agent_id=agent.id, tenant_id=tenant_id, name=agent.name)
    await prompts.ensure_default(session, tenant_id=tenant_id, agent_id=agent.id)
    await agents.open_workspace(session=session, new=new, workspaces_dir=workspaces_dir, actor=actor)
    return agent


async def delete_agent(*, session: AsyncSession, agent: Agent, workspaces_dir: Path) -> None:
    """Removes a stopped agent with no unfinished run: its row, workflow, prompts and workspace.

    Its events, runs and usage stay as history.
    """
    agents.ensure_stopped(agent)
    unfinished = await session.scalar(
        select(Run.id)
        .where(
            Run.tenant_id == agent.tenant_id,
            Run.agent_id == agent.id,
            Run.status.not_in(TERMINAL),
        )
        .limit(1)
    )
    if unfinished is not None:
        raise Conflict(
            f"agent '{agent.id}' has an unfinished run ({unfinished}); cancel it first", code="AGENT_BUSY"
        )
    mine = {"tenant_id": agent.tenant_id, "agent_id": agent.id}
    await session.execute(delete(Workflow).filter_by(**mine))
    await session.execute(delete(Prompt).filter_by(**mine))
    await agents.remove_agent(session=session, agent=agent, workspaces_dir=workspaces_dir)
