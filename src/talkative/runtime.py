"""What the long-lived work needs, built once in the lifespan and shared by routes and loops.

The composition root's data: settings, the database, the bus, the interpreter and model providers,
the run watch, and a handle to wake the run worker (wired by `main.py`, which builds the worker).
It imports no orchestration, so every domain may use it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative import workspaces
from talkative.conversation.interpreter import Interpreter, LocalInterpreter
from talkative.events.bus import EventBus
from talkative.events.schemas import Event, EventType
from talkative.llm_router.providers.base import Provider, build_providers
from talkative.settings import Settings
from talkative.tools.schemas import ToolLimits
from talkative.watch import RunWatch

# What the run events a process hears mean to it, whichever process committed them: a caller waiting
# on the run reads it again; a tool of a cancelled run is killed; the worker looks for work.
SETTLING = frozenset(
    {
        EventType.RUN_COMPLETED,
        EventType.RUN_REJECTED,
        EventType.RUN_FAILED,
        EventType.RUN_CANCELLED,
        EventType.RUN_WAITING_APPROVAL,
        EventType.RUN_PAUSED,
    }
)
RUNNABLE = frozenset(
    {
        EventType.MESSAGE_RECEIVED,
        EventType.INTERPRETATION_RESULT,
        EventType.HEARTBEAT_TICK,
        EventType.RUN_RESUMED,
        EventType.RUN_APPROVAL_DECIDED,
        EventType.RUN_REQUEUED,
    }
)


class Waker(Protocol):
    def wake(self) -> None:
        """There may be work: look for it now rather than at the next poll."""


class _NoWorker:
    def wake(self) -> None:  # a runtime without a worker (CLI tools, some tests) has nobody to wake
        pass


@dataclass
class Runtime:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: EventBus
    interpreter: Interpreter
    tool_limits: ToolLimits
    providers: dict[str, Provider] = field(default_factory=dict)
    watch: RunWatch = field(default_factory=RunWatch)
    worker: Waker = field(default_factory=_NoWorker)
    # Set at shutdown: background loops finish their current database call and return, rather
    # than being cancelled in the middle of one.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def pause(self, seconds: float) -> bool:
        """Sleeps up to `seconds`; returns False once the server is stopping."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            return True
        return False

    def hear(self, events: Sequence[Event]) -> None:
        """The bus's listener (cheap: it runs as the bus hands events out)."""
        runnable: dict[str, bool] = {}  # run: whether its last word in this batch leaves it runnable
        for event in events:
            if event.run_id is None:
                continue
            if event.type in SETTLING:
                if event.type == EventType.RUN_CANCELLED:
                    self.watch.cancel(event.run_id)
                self.watch.notify(event.run_id)
                runnable[event.run_id] = False
            elif event.type in RUNNABLE:
                runnable[event.run_id] = True
        # A run that settled in the batch that opened it (a message answered where it was planned)
        # gives no worker anything to do: waking them for it cost every process a claim query per
        # message, anywhere in the cluster.
        if any(runnable.values()):
            self.worker.wake()

    def workspace(self, stored: str) -> Path:
        return workspaces.resolve(self.settings.workspaces_dir, stored)


def tool_limits(settings: Settings) -> ToolLimits:
    return ToolLimits(
        timeout_s=settings.tool_timeout_s,
        cpu_s=max(1, int(settings.tool_timeout_s)),
        memory_bytes=settings.tool_memory_mb * 1024 * 1024,
        output_cap_bytes=settings.tool_output_cap_kb * 1024,
        write_quota_bytes=settings.tool_write_quota_bytes,
        write_quota_files=settings.tool_write_quota_files,
        workspace_quota_bytes=settings.workspace_quota_bytes,
        workspace_quota_files=settings.workspace_quota_files,
    )


def build_runtime(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus
) -> Runtime:
    runtime = Runtime(settings, sessionmaker, bus, LocalInterpreter(), tool_limits(settings))
    runtime.providers = build_providers(os.environ, timeout_s=settings.llm_timeout_s)
    bus.listen(runtime.hear)
    return runtime
