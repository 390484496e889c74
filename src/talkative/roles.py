"""What one process runs, by role, built in one place for `talkative serve` and `talkative worker`.

- the API (HTTP routes; main.py wraps `running` in the app's lifespan),
- the worker: the run worker, and the singleton loops (heartbeat scheduler, event retention, the
  integrity check, webhook delivery, approval deadlines) when this process is the elected leader
  (cluster/leadership.py).

`serve` is both, `serve --no-worker` the API alone (its flows commit runs; the shared bus wakes
the workers, whose polls are the safety net), `worker` the worker alone. On PostgreSQL every
process is admitted to the cluster before it serves (cluster/registry.py: one signing secret, one
shared workspaces root).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from talkative import __version__, migrations
from talkative.approval_mail import delivery as approval_mail
from talkative.auth.secrets import AuthConfig, fingerprint
from talkative.cluster import leadership, registry
from talkative.db import create_engine, make_sessionmaker
from talkative.events import outbox
from talkative.events.shared import bus_for
from talkative.integrity import schedule as integrity_schedule
from talkative.llm_router.providers.base import close_providers
from talkative.observability import tracing
from talkative.orchestrator import control, flows, scheduler
from talkative.orchestrator.steps.approval import ApprovalExecutor
from talkative.orchestrator.steps.base import StepExecutor
from talkative.orchestrator.steps.delegate import DelegateExecutor
from talkative.orchestrator.steps.task import TaskExecutor
from talkative.orchestrator.steps.tool import ToolExecutor
from talkative.orchestrator.worker import Worker
from talkative.runs.reducer import StepKind
from talkative.runtime import Runtime, build_runtime
from talkative.settings import Settings
from talkative.tools import forkserver, isolation
from talkative.webhooks import delivery as webhooks_delivery

log = logging.getLogger("talkative")
SHUTDOWN_GRACE_S = 5.0


@dataclass(frozen=True)
class Roles:
    api: bool = True
    worker: bool = True

    @property
    def label(self) -> str:
        return ",".join(name for name, on in (("api", self.api), ("worker", self.worker)) if on)


@dataclass
class Process:
    """What `running` built: the app's lifespan and the worker command hold on to it."""

    runtime: Runtime
    engine: AsyncEngine
    schema_revision: str | None
    background: list[asyncio.Task[None]] = field(default_factory=list)


def build_worker(runtime: Runtime) -> Worker:
    """The run worker and one executor per step kind; a delegate step opens its child run through
    the flows, handed to it here so that the steps never import the code that feeds them."""
    executors: dict[StepKind, StepExecutor] = {
        StepKind.TOOL: ToolExecutor(runtime),
        StepKind.APPROVAL: ApprovalExecutor(),
        StepKind.TASK: TaskExecutor(),
        StepKind.DELEGATE: DelegateExecutor(runtime, partial(flows.start_child, runtime)),
    }
    return Worker(runtime, executors)


async def admit(settings: Settings, auth: AuthConfig, roles: Roles) -> None:
    """Checks, without joining, that this process may join its cluster (raises ConfigError): the
    CLI asks before it serves, so that a refusal is one clear line and a non-zero exit."""
    engine = create_engine(settings.resolved_database_url, timeout_s=settings.db_timeout_s)
    try:
        if engine.dialect.name == "postgresql":
            await _admit(engine, settings, _member(auth, roles), register=False)
    finally:
        await engine.dispose()


def _member(auth: AuthConfig, roles: Roles) -> registry.Member:
    return registry.Member.me(roles=roles.label, fingerprint=fingerprint(auth))


async def _admit(engine: AsyncEngine, settings: Settings, member: registry.Member, *, register: bool) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await registry.admit(
            session,
            member=member,
            workspaces_root=settings.workspaces_dir.resolve(),
            poll_s=settings.cluster_poll_s,
            register=register,
        )


@asynccontextmanager
async def running(settings: Settings, auth: AuthConfig, roles: Roles) -> AsyncIterator[Process]:
    """Everything a process of these roles runs besides HTTP, from start to a clean stop: the
    schema brought to head, the database, the runtime, admission to the cluster, and the loops."""
    url = settings.resolved_database_url
    if not await migrations.is_current(url):  # `talkative serve` has migrated already, in a child
        await asyncio.to_thread(migrations.upgrade, url)
    schema_revision = await migrations.current_revision(url)
    engine = create_engine(url, timeout_s=settings.db_timeout_s)
    async with AsyncExitStack() as stack:  # undone in reverse: loops, worker, registry, ..., engine
        if tracing.configure_from_env():
            stack.callback(tracing.shutdown)  # last: sends the spans of the stop itself
        stack.push_async_callback(engine.dispose)
        bus = bus_for(engine.url, poll_s=settings.bus_poll_s)
        runtime = build_runtime(settings, make_sessionmaker(engine, info=outbox.session_info(bus)), bus)
        await bus.start(runtime.sessionmaker)
        stack.push_async_callback(bus.stop)  # after the worker and the loops have stopped
        stack.push_async_callback(close_providers, runtime.providers)
        stack.callback(forkserver.close_for_loop)
        process = Process(runtime, engine, schema_revision)
        clustered = engine.dialect.name == "postgresql"
        member = _member(auth, roles)
        if clustered:
            await _admit(engine, settings, member, register=True)
            stack.push_async_callback(registry.leave, runtime.sessionmaker, member)
        # Probed now, so that a host without the sandbox says so once, at startup (not at a first run).
        await asyncio.to_thread(isolation.status, isolation.policy_for(settings))
        worker = build_worker(runtime) if roles.worker else None
        if worker is not None:
            runtime.worker = worker
            stack.push_async_callback(worker.stop)
        stack.push_async_callback(_stop_loops, runtime, process.background)
        if clustered:
            renew = registry.keep_renewing(
                runtime.sessionmaker, member, poll_s=settings.cluster_poll_s, stopping=runtime.stopping
            )
            process.background.append(asyncio.create_task(renew, name="process-registry"))
        if worker is not None:
            elector = _elector(engine, settings) if clustered else leadership.SoleLeader()
            process.background += _worker_loops(runtime, worker, elector, auth)
        yield process


def _worker_loops(
    runtime: Runtime, worker: Worker, elector: leadership.Elector, auth: AuthConfig
) -> list[asyncio.Task[None]]:
    """The run worker, and the singleton loops while this process leads."""
    duties = {
        "heartbeats": partial(scheduler.heartbeat_loop, runtime),
        "event-retention": partial(scheduler.retention_loop, runtime),
        "webhooks": partial(webhooks_delivery.delivery_loop, runtime),
        "approval-deadlines": partial(control.approval_deadline_loop, runtime),
    }
    if approval_mail.enabled(runtime.settings):
        duties["approval-mail"] = partial(approval_mail.delivery_loop, runtime, auth)
    if runtime.settings.integrity_check_interval_s > 0:
        duties["integrity-check"] = partial(integrity_schedule.check_loop, runtime)
    retry_s = runtime.settings.cluster_poll_s
    return [
        asyncio.create_task(
            leadership.lead(elector, duties, stopping=runtime.stopping, retry_s=retry_s), name="leadership"
        ),
        asyncio.create_task(worker.run_forever(), name="run-worker"),
    ]


def _elector(engine: AsyncEngine, settings: Settings) -> leadership.AdvisoryLockElector:
    _, connect_args = engine.dialect.create_connect_args(engine.url)
    return leadership.AdvisoryLockElector(
        connect_args, check_s=settings.cluster_poll_s, timeout_s=settings.db_timeout_s
    )


async def _stop_loops(runtime: Runtime, background: list[asyncio.Task[None]]) -> None:
    """The loops finish their current pass and return; those that take too long are cancelled."""
    runtime.stopping.set()
    runtime.worker.wake()  # so that the worker's loop notices `stopping` at once
    if not background:
        return
    _, late = await asyncio.wait(background, timeout=SHUTDOWN_GRACE_S)
    for task in late:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)


async def work_until_signalled(settings: Settings, auth: AuthConfig) -> None:
    """`talkative worker`: runs until SIGTERM or SIGINT, then stops cleanly (its runs in flight
    are let go, and another worker takes them over)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(settings, auth, Roles(api=False, worker=True)) as process:
        log.info(
            "talkative %s worker ready; database %s at schema %s",
            __version__,
            process.engine.url.render_as_string(hide_password=True),
            process.schema_revision,
        )
        await stop.wait()
        log.info("stopping: letting go of the runs in flight")
