from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from talkative.mcp_skills.models import Transport
from talkative.skills.manifest import MCP_TOOL_PATTERN, NAME_PATTERN

MAX_URL = 2048
MAX_HEADERS = 16
MAX_TRIGGERS = 32
# An HTTP header name (RFC 9110 token); a few are the transport's own and may not be set.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "mcp-session-id"}
)

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NAME_PATTERN.pattern)]
ToolName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=MCP_TOOL_PATTERN.pattern)]
Trigger = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class McpServerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Slug = Field(description="A slug, unique in the tenant: the `server` of its skills")
    transport: Transport = Transport.HTTP
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL)] | None = (
        Field(
            default=None,
            description="Streamable HTTP endpoint (transport `http`); loopback and private addresses are "
            "refused unless the server allows them",
        )
    )
    command: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None
    ) = Field(
        default=None,
        description="`python skills/<skill>/<script>.py [args...]`, run inside the skill sandbox over stdio "
        "(transport `command`)",
    )
    agent_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Transport `command` only: the agent of your tenant whose workspace holds the script; "
        "the tools are listed there",
    )
    credentials: dict[str, Annotated[str, StringConstraints(min_length=1, max_length=4096)]] = Field(
        default_factory=dict,
        max_length=MAX_HEADERS,
        description="HTTP headers sent to the server (e.g. Authorization); stored server-side, never shown",
    )

    @field_validator("credentials")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if not _HEADER_NAME.fullmatch(name) or name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"{name!r} is not a header a credential may set")
            if not all(ch == "\t" or " " <= ch <= "~" for ch in header):
                raise ValueError(f"the value of {name!r} must be printable ASCII on one line")
        return value

    @model_validator(mode="after")
    def _target(self) -> McpServerCreate:
        if self.transport is Transport.HTTP and (self.url is None or self.command is not None):
            raise ValueError("transport http takes a `url` (and no `command`)")
        if self.transport is Transport.COMMAND and (
            self.command is None or self.agent_id is None or self.url is not None
        ):
            raise ValueError("transport command takes a `command` and an `agent_id` (and no `url`)")
        if self.transport is Transport.HTTP and self.agent_id is not None:
            raise ValueError("transport http takes no `agent_id`")
        if self.transport is Transport.COMMAND and self.credentials:
            raise ValueError("transport command takes no `credentials` (a skill run gets no secrets)")
        return self


class McpToolRead(BaseModel):
    name: str
    description: str
    input_schema: dict[str, Any]
    digest: str = Field(
        description="sha256 of the canonical JSON of name, description and input schema (and, for a "
        "`command` server, its script's skill folder digest)"
    )
    approved_digest: str | None
    status: str = Field(description="`approved`, or `changed`: not called until an admin re-approves it")
    approved_by: str | None
    approved_at: datetime | None
    changed_at: datetime | None


class McpServerRead(BaseModel):
    """A server as anyone in its tenant may see it: never its credentials (only their names)."""

    id: str
    tenant_id: str
    name: str
    transport: str
    url: str | None
    command: str | None
    agent_id: str | None = Field(description="A `command` server's home agent (whose workspace holds it)")
    credential_headers: list[str] = Field(description="The names of the headers sent; never their values")
    created_by: str
    created_at: datetime
    tools: list[McpToolRead]


class McpServerPage(BaseModel):
    servers: list[McpServerRead]


class McpToolApprove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: str | None = Field(
        default=None,
        min_length=64,
        max_length=64,
        description="The digest reviewed; refused (409) if the tool's listing has changed again since",
    )


class McpSkillAttach(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server: Slug
    tool: ToolName
    name: Slug | None = Field(default=None, description="The skill's name; default `<server>-<tool>`")
    triggers: list[Trigger] = Field(default_factory=list, max_length=MAX_TRIGGERS)
    requires_approval: bool = False


class McpSkillAttached(BaseModel):
    skillName: str
    server: str
    tool: str
    digest: str
