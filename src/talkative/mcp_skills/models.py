"""A tenant's MCP servers and the tools each one listed, with the digest an admin approved."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import JsonDoc


class Transport(StrEnum):
    HTTP = "http"  # Streamable HTTP at `url`
    COMMAND = "command"  # a local command run inside the skill sandbox (stdio)


class McpServer(Base):
    """An MCP server of a tenant. `credentials` are HTTP headers sent to it: kept server-side (like a
    webhook's secret, the server needs them as given), never in an answer, an event or a log."""

    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    transport: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    command: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # A `command` server's home agent (same tenant): its workspace holds the script, and the server
    # is listed there when registered or refreshed.
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    credentials: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_mcp_servers_tenant_name"),)


class McpTool(Base):
    """A tool as its server last listed it (`digest`), and the digest an admin approved. A tool
    whose listing no longer has the approved digest is `changed`: not called until re-approved."""

    __tablename__ = "mcp_tools"

    server_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("mcp_servers.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    input_schema: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    digest: Mapped[str] = mapped_column(String(64))  # of the latest listing
    approved_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # of the latest listing
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # first seen changed

    __table_args__ = (Index("ix_mcp_tools_server", "server_id"),)

    @property
    def approved(self) -> bool:
        return self.approved_digest is not None and self.approved_digest == self.digest
