"""create_app(): settings, auth, database and migrations, middleware, routers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from talkative import __version__, migrations
from talkative.agents.router import router as agents_router
from talkative.approvals.router import router as approvals_router
from talkative.auth.router import router as auth_router
from talkative.auth.secrets import resolve_auth
from talkative.channels.router import router as channels_router
from talkative.conversation.router import router as conversation_router
from talkative.db import create_engine, make_sessionmaker
from talkative.errors import install_error_handlers
from talkative.events import outbox
from talkative.events.router import router as events_router
from talkative.events.shared import bus_for
from talkative.fleet.router import router as fleet_router
from talkative.input.middleware import InputGuardMiddleware
from talkative.llm_router.providers.base import close_providers
from talkative.llm_router.router import router as llm_router_router
from talkative.observability.health import DatabaseCheck, HealthFastPath
from talkative.observability.metrics import SSE_SUBSCRIBERS
from talkative.observability.middleware import ObservabilityMiddleware
from talkative.observability.revision import detect_revision
from talkative.observability.router import router as observability_router
from talkative.orchestrator import flows, scheduler
from talkative.orchestrator.decisions import router as decisions_router
from talkative.orchestrator.messages import router as messages_router
from talkative.orchestrator.router import router as orchestrator_router
from talkative.orchestrator.steps.approval import ApprovalExecutor
from talkative.orchestrator.steps.base import StepExecutor
from talkative.orchestrator.steps.delegate import DelegateExecutor
from talkative.orchestrator.steps.task import TaskExecutor
from talkative.orchestrator.steps.tool import ToolExecutor
from talkative.orchestrator.worker import Worker
from talkative.prompts.router import router as prompts_router
from talkative.runs.reducer import StepKind
from talkative.runs.router import router as runs_router
from talkative.runtime import Runtime, build_runtime
from talkative.settings import Settings, get_settings
from talkative.skills.router import router as skills_router
from talkative.tools import forkserver, isolation
from talkative.ui.router import router as ui_router
from talkative.workflows.router import router as workflows_router

log = logging.getLogger("talkative")
SHUTDOWN_GRACE_S = 5.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    url = settings.resolved_database_url
    if not await migrations.is_current(url):  # `talkative serve` has migrated already, in a child
        await asyncio.to_thread(migrations.upgrade, url)
    app.state.schema_revision = await migrations.current_revision(url)
    engine = create_engine(url, timeout_s=settings.db_timeout_s)
    bus = bus_for(engine.url, poll_s=settings.bus_poll_s)
    SSE_SUBSCRIBERS.set_function(lambda: bus.subscriber_count)
    app.state.engine = engine
    app.state.bus = bus
    app.state.sessionmaker = make_sessionmaker(engine, info=outbox.session_info(bus))
    await bus.start(app.state.sessionmaker)
    runtime = build_runtime(settings, app.state.sessionmaker, bus)
    worker = runtime.worker = build_worker(runtime)
    # Probed now, so that a host without the sandbox says so once, at startup (not at a first run).
    await asyncio.to_thread(isolation.status, isolation.policy_for(settings))
    app.state.runtime = runtime
    background = [
        asyncio.create_task(scheduler.heartbeat_loop(runtime), name="heartbeats"),
        asyncio.create_task(scheduler.retention_loop(runtime), name="event-retention"),
        asyncio.create_task(worker.run_forever(), name="run-worker"),
    ]
    log.info(
        "talkative %s (%s) ready; database %s at schema %s",
        __version__,
        app.state.revision,
        engine.url.render_as_string(hide_password=True),
        app.state.schema_revision,
    )
    try:
        yield
    finally:
        runtime.stopping.set()
        worker.wake()  # so that its loop notices `stopping` at once
        _, late = await asyncio.wait(background, timeout=SHUTDOWN_GRACE_S)
        for task in late:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await worker.stop()
        await bus.stop()
        await close_providers(runtime.providers)
        forkserver.close_for_loop()
        await engine.dispose()


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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; raises ConfigError before serving anything if config is unsafe."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = FastAPI(
        title="Talkative",
        version=__version__,
        description="Self-hosted control plane for small business-workflow AI agents.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.auth = resolve_auth(settings)
    app.state.revision = detect_revision(settings.revision)
    app.state.schema_revision = None
    app.state.database_check = DatabaseCheck()
    install_error_handlers(app)
    # Added first, so it runs inside the observability middleware and the input guard.
    app.add_middleware(HealthFastPath)
    # Inside the observability middleware: its 413s and 422s are logged too.
    app.add_middleware(InputGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(ObservabilityMiddleware)
    for router in (
        observability_router,
        auth_router,
        agents_router,
        messages_router,
        skills_router,
        workflows_router,
        conversation_router,
        events_router,
        orchestrator_router,
        runs_router,
        approvals_router,
        decisions_router,
        prompts_router,
        channels_router,
        llm_router_router,
        fleet_router,
        ui_router,
    ):
        app.include_router(router)
    return app
