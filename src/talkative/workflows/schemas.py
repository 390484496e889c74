from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.workflows.graph import Edge, Node, NodeUpdate

# Up to 80 so agents' workflows ("agent-wf-" + a 64-character agent id) can be versioned too.
WorkflowId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str, StringConstraints(max_length=500)]


class WorkflowWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: WorkflowId | None = Field(default=None, description="Existing id → a new version of it")
    name: Name
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    note: Note | None = None
    tenant_id: str | None = None


class NodeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflowId: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    node: Node


class NodePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflowId: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    updates: NodeUpdate


class VersionRead(BaseModel):
    version: int
    createdAt: datetime
    note: str | None
    run_id: str | None
    nodes: list[Node]
    edges: list[Edge]


class WorkflowNodeRead(Node):
    """A node as the API shows it: `status` follows the run steps that executed it (its stored
    status when none did) and `runIds` are its latest runs, newest first."""

    runIds: list[str] = Field(default_factory=list)


class WorkflowRead(BaseModel):
    id: str
    tenant_id: str
    agent_id: str | None
    name: str
    version: int
    createdAt: datetime
    updatedAt: datetime
    nodes: list[WorkflowNodeRead]
    edges: list[Edge]
    versions: list[VersionRead] | None = None


class WorkflowPage(BaseModel):
    workflows: list[WorkflowRead]
