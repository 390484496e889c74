"""TALKATIVE_WORKSPACES_DIR: agents' workspaces live under the configured root (a cluster's shared
folder), stored paths unchanged, so agents created before keep working wherever the root is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from talkative.agents.models import Agent
from talkative.main import create_app
from talkative.settings import Settings
from tests.conftest import serving
from tests.factories.agents import create_agent, running_agent
from tests.factories.runs import send_message

Auth = Callable[..., dict[str, str]]


def test_the_root_defaults_to_the_data_dirs_workspaces_folder(tmp_path: Path) -> None:
    assert Settings(TALKATIVE_DATA_DIR=tmp_path).workspaces_dir == tmp_path / "workspaces"
    shared = tmp_path / "shared"
    assert Settings(TALKATIVE_DATA_DIR=tmp_path, TALKATIVE_WORKSPACES_DIR=shared).workspaces_dir == shared
    with pytest.raises(ValidationError, match="TALKATIVE_WORKSPACES_DIR cannot be /"):
        Settings(TALKATIVE_WORKSPACES_DIR="/")


@pytest.fixture
async def shared_app(settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"workspaces_root": tmp_path / "shared"}))
    async with serving(app):
        yield app


@pytest.fixture
async def shared_client(shared_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shared_app), base_url="http://t") as http:
        yield http


async def test_agents_live_under_the_configured_root(
    shared_app: FastAPI, shared_client: httpx.AsyncClient, auth: Auth, tmp_path: Path
) -> None:
    settings: Settings = shared_app.state.settings
    created = await create_agent(shared_client, auth(), "mailer", template="mail-triage")
    assert created["workspace"] == "workspaces/tenant-a/mailer"  # stored as before
    workspace = tmp_path / "shared" / "tenant-a" / "mailer"
    assert (workspace / "skills" / "mail-triage" / "SKILL.md").is_file()
    assert not (settings.data_dir / "workspaces").exists()
    skills = (await shared_client.get("/agents/mailer/skills", headers=auth())).json()["skills"]
    assert [s["name"] for s in skills] == ["mail-triage"]
    assert (await shared_client.delete("/agents/mailer", headers=auth())).status_code == 204
    assert not workspace.exists() and (tmp_path / "shared" / "tenant-a").is_dir()


async def test_an_agent_from_before_tenant_folders_resolves_under_the_root(
    shared_app: FastAPI, shared_client: httpx.AsyncClient, auth: Auth, tmp_path: Path
) -> None:
    await running_agent(shared_client, auth(), "old")
    async with shared_app.state.sessionmaker() as session, session.begin():
        agent = await session.get(Agent, ("tenant-a", "old"))
        assert agent is not None
        agent.workspace = "workspaces/old"  # as agents created before per-tenant folders are stored
    legacy = tmp_path / "shared" / "old"
    (legacy / "skills").mkdir(parents=True)
    (legacy / "HEARTBEAT.md").write_text("RUN python skills/none/scripts/x.py\n")
    reply = await send_message(shared_client, auth(), "old", "run heartbeat now")
    assert reply["run_status"] == "completed"
    # Its HEARTBEAT.md was read from the root: the command found there is named (and not run).
    refused = [e["payload"]["reason"] for e in reply["events"] if e["type"] == "SKILL_UNTRUSTED"]
    assert refused == ["heartbeat: python skills/none/scripts/x.py"]
