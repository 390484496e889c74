"""create_app(): settings, auth, database and migrations, middleware, routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import State

from talkative import __version__, roles
from talkative.agents.router import router as agents_router
from talkative.approval_mail.router import router as approval_mail_router
from talkative.approvals.router import router as approval_policy_router
from talkative.auth.router import router as auth_router
from talkative.auth.secrets import resolve_auth
from talkative.channels.router import router as channels_router
from talkative.conversation.router import router as conversation_router
from talkative.errors import install_error_handlers
from talkative.events.router import router as events_router
from talkative.fleet.router import router as fleet_router
from talkative.input.middleware import InputGuardMiddleware
from talkative.llm_router.metrics import export_spend
from talkative.llm_router.router import router as llm_router_router
from talkative.mcp_server.router import McpEndpoint
from talkative.mcp_server.router import router as mcp_router
from talkative.mcp_skills.router import router as mcp_servers_router
from talkative.observability.health import DatabaseCheck, HealthFastPath
from talkative.observability.metrics import SSE_SUBSCRIBERS
from talkative.observability.middleware import ObservabilityMiddleware
from talkative.observability.revision import detect_revision
from talkative.observability.router import router as observability_router
from talkative.observability.scrape import health_gauge
from talkative.orchestrator.decisions import router as decisions_router
from talkative.orchestrator.messages import router as messages_router
from talkative.orchestrator.router import router as orchestrator_router
from talkative.prompts.router import router as prompts_router
from talkative.runs.router import router as runs_router
from talkative.settings import Settings, get_settings
from talkative.skills.router import router as skills_router
from talkative.ui.docs import router as docs_router
from talkative.ui.navigation import PageNavigation
from talkative.ui.router import router as ui_router
from talkative.webhooks.router import router as webhooks_router
from talkative.workflows.router import router as workflows_router

log = logging.getLogger("talkative")


async def _router_spend(state: State) -> None:
    await export_spend(state.sessionmaker)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with roles.running(app.state.settings, app.state.auth, app.state.roles) as process:
        runtime = process.runtime
        bus = runtime.bus
        SSE_SUBSCRIBERS.set_function(lambda: bus.subscriber_count)
        app.state.engine = process.engine
        app.state.bus = bus
        app.state.sessionmaker = runtime.sessionmaker
        app.state.runtime = runtime
        app.state.schema_revision = process.schema_revision
        log.info(
            "talkative %s (%s) ready as %s; database %s at schema %s",
            __version__,
            app.state.revision,
            app.state.roles.label,
            process.engine.url.render_as_string(hide_password=True),
            process.schema_revision,
        )
        async with app.state.mcp.running(app):
            yield


def create_app(settings: Settings | None = None, *, worker: bool = True) -> FastAPI:
    """Build the application; raises ConfigError before serving anything if config is unsafe.
    `worker=False`: the API alone (the runs it opens are run by worker processes)."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = FastAPI(
        title="Talkative",
        version=__version__,
        description="Self-hosted control plane for small business-workflow AI agents.",
        lifespan=lifespan,
        # Served by talkative.ui.docs from packaged files: FastAPI's own pages need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.auth = resolve_auth(settings)
    app.state.roles = roles.Roles(api=True, worker=worker)
    app.state.revision = detect_revision(settings.revision)
    app.state.schema_revision = None
    app.state.database_check = DatabaseCheck()
    app.state.scrape_hooks = (health_gauge, _router_spend)
    app.state.mcp = McpEndpoint()
    install_error_handlers(app)
    # Added first, so it runs inside the observability middleware and the input guard.
    app.add_middleware(HealthFastPath)
    app.add_middleware(PageNavigation)  # a browser reloading /approvals gets the app, not the API
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
        decisions_router,
        approval_policy_router,
        prompts_router,
        channels_router,
        llm_router_router,
        fleet_router,
        webhooks_router,
        approval_mail_router,
        mcp_servers_router,
        mcp_router,
        ui_router,
        docs_router,
    ):
        app.include_router(router)
    return app
