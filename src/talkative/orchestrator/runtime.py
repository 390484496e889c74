"""What the long-lived work needs, built once in the lifespan and shared by routes and schedulers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.conversation.interpreter import Interpreter, LocalInterpreter
from talkative.events.bus import EventBus
from talkative.settings import Settings
from talkative.tools.schemas import ToolLimits


@dataclass
class Runtime:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: EventBus
    interpreter: Interpreter
    tool_limits: ToolLimits

    def workspace(self, relative: str) -> Path:
        return (self.settings.data_dir / relative).resolve()


def build_runtime(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> Runtime:
    limits = ToolLimits(
        timeout_s=settings.tool_timeout_s,
        cpu_s=max(1, int(settings.tool_timeout_s)),
        memory_bytes=settings.tool_memory_mb * 1024 * 1024,
        output_cap_bytes=settings.tool_output_cap_kb * 1024,
    )
    return Runtime(settings, sessionmaker, bus, LocalInterpreter(), limits)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
