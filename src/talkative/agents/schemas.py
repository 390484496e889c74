from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.agents.models import AgentStatus

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug | None = Field(default=None, description="Slug id; derived from the name if absent")
    name: Name
    tenant_id: Slug | None = Field(
        default=None, description="Must equal the token's tenant; platform admins may choose"
    )
    heartbeatMinutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    template: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="Skill template attached at creation (see GET /skills)"
    )
    workspace: Slug | None = Field(
        default=None, description="Workspace folder name under the data dir (defaults to the id)"
    )


class SkillAttach(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skillName: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    allowNetwork: bool = Field(
        default=False,
        description="Admins only: let the skill reach the hosts its SKILL.md declares (`network:`), "
        "through the egress proxy; without it the skill's runs have no network",
    )


class SkillAttached(BaseModel):
    skillName: str
    seeded: list[str]
    heartbeatAdded: bool


class AgentRead(BaseModel):
    id: str
    agent_id: str
    tenant_id: str
    name: str
    status: AgentStatus
    workspace: str
    heartbeatMinutes: int
    lastHeartbeatAt: datetime | None
    lastMessageAt: datetime | None
    lastMessage: str | None
    createdAt: datetime
    updatedAt: datetime


class AgentPage(BaseModel):
    agents: list[AgentRead]


class AgentUpdate(BaseModel):
    """The settings an operator may change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    heartbeatMinutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)


class WorkspaceFile(BaseModel):
    folder: Literal["inputs", "outputs"]
    path: str = Field(description="Relative to the folder, `/`-separated")
    size: int
    modifiedAt: datetime


class WorkspaceQuota(BaseModel):
    """What the workspace holds against its quota (the one the sandbox enforces on runs' writes)."""

    usedBytes: int
    usedFiles: int
    quotaBytes: int
    quotaFiles: int
    maxUploadBytes: int = Field(
        description="The largest file one upload may carry: the quota of one run's writes, or the "
        "request body limit if that is less"
    )


class WorkspaceFiles(BaseModel):
    files: list[WorkspaceFile]
    truncated: bool = Field(description="A folder held more files than are listed")
    quota: WorkspaceQuota
