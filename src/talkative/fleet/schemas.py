from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from talkative.agents.schemas import Slug as AgentSlug
from talkative.fleet.validation import check_base_path, check_host, check_user

# No control characters (PostgreSQL stores no NUL; a newline has no place in a name or an id).
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE)
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=_PRINTABLE)
]
SkillName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SkillList = Annotated[list[SkillName], Field(max_length=32)]
# Length caps come first so a huge value is refused before any pattern runs over it.
Host = Annotated[str, StringConstraints(max_length=253), AfterValidator(check_host)]
User = Annotated[str, StringConstraints(max_length=32), AfterValidator(check_user)]
BasePath = Annotated[str, StringConstraints(max_length=512), AfterValidator(check_base_path)]
Port = Annotated[int, Field(strict=True, ge=1, le=65535)]
NodeMode = Literal["local", "ssh"]
NodeStatus = Literal["new", "ready", "unreachable", "error"]
PlacementStatus = Literal["provisioned", "failed"]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = Field(default=None, description="Must equal the token's tenant, if it has one")
    name: Name


class TenantRead(BaseModel):
    id: str
    tenant_id: str
    name: str
    created_at: datetime


class TenantPage(BaseModel):
    tenants: list[TenantRead]


class CloudCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    name: Name
    provider: Label = Field(description="e.g. local, hetzner, aws")
    region: Label | None = None


class CloudRead(BaseModel):
    id: str
    tenant_id: str
    name: str
    provider: str
    region: str | None
    created_at: datetime


class CloudPage(BaseModel):
    clouds: list[CloudRead]


class FleetNodeCreate(BaseModel):
    """A node; `ssh_*` apply to (and `ssh_host`, `ssh_user`, `base_path` are required for) mode ssh."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    cloud_id: Slug | None = None
    name: Name
    mode: NodeMode = "local"
    ssh_host: Host | None = None
    ssh_user: User | None = None
    ssh_port: Port | None = None
    base_path: BasePath | None = Field(
        default=None,
        description="Absolute folder agents are laid out in; local nodes default to (and must stay "
        "inside) TALKATIVE_FLEET_LOCAL_ROOT",
    )

    @model_validator(mode="after")
    def _fits_mode(self) -> FleetNodeCreate:
        ssh = {"ssh_host": self.ssh_host, "ssh_user": self.ssh_user, "ssh_port": self.ssh_port}
        if self.mode == "local":
            given = sorted(k for k, v in ssh.items() if v is not None)
            if given:
                raise ValueError(f"{', '.join(given)} only apply to mode 'ssh'")
        else:
            missing = [
                k for k, v in {**ssh, "base_path": self.base_path}.items() if v is None and k != "ssh_port"
            ]
            if missing:
                raise ValueError(f"mode 'ssh' requires {', '.join(missing)}")
            self.ssh_port = self.ssh_port or 22
        return self


class NodeRead(BaseModel):
    id: str
    tenant_id: str
    cloud_id: str | None
    name: str
    mode: NodeMode
    ssh_host: str | None
    ssh_user: str | None
    ssh_port: int | None
    base_path: str | None
    status: NodeStatus
    last_error: str | None
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NodePage(BaseModel):
    nodes: list[NodeRead]


class FleetAgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: AgentSlug = Field(description="Slug id; also the agent's folder name on every node")
    tenant_id: Slug | None = None
    cloud_id: Slug | None = None
    name: Name
    skills: SkillList = Field(default_factory=list, description="Skill names from GET /skills")


class PlacementRead(BaseModel):
    agent_id: str
    node_id: str
    tenant_id: str
    status: PlacementStatus
    skills: list[str]
    path: str | None
    error: str | None
    provisioned_at: datetime | None
    updated_at: datetime


class FleetAgentRead(BaseModel):
    id: str
    tenant_id: str
    cloud_id: str | None
    name: str
    skills: list[str]
    placements: list[PlacementRead]
    created_at: datetime
    updated_at: datetime


class FleetAgentPage(BaseModel):
    agents: list[FleetAgentRead]


class ProvisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    node_id: Slug
    skills: SkillList | None = Field(
        default=None, description="The skills to lay out on this node; the agent's own when absent"
    )
