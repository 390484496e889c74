"""Fixtures of the orchestrator's tests: an app whose remote model is a real OpenAI-protocol server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from talkative.main import create_app
from talkative.settings import Settings
from tests.conftest import serving
from tests.factories import Auth
from tests.llm_router.fake_openai import FakeOpenAI, fake_openai, fake_openai_factory

__all__ = ["fake_openai", "fake_openai_factory", "remote"]

REMOTE_MODEL = "openai/gpt-test"
# Priced, so that a call in flight holds a part of the budget until it is recorded or released.
REMOTE_RULES = {
    "default_model": "local",
    "routes": [{"match": ".", "model": REMOTE_MODEL, "max_tokens": 20}],
    "prices": {REMOTE_MODEL: {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0}},
}


@pytest.fixture
async def remote(
    settings: Settings, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose OpenAI provider is the fake server (the env is read at startup), with a call
    timeout long enough for a test to hold a call in flight."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    app = create_app(settings.model_copy(update={"llm_timeout_s": 120.0}))
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://talkative.test") as client:
            yield app, client


async def route_to_remote(client: httpx.AsyncClient, auth: Auth) -> None:
    """Every message's interpretation goes to the remote model."""
    response = await client.put("/router/admin/rules", json=REMOTE_RULES, headers=auth("admin", None))
    assert response.status_code == 200, response.text
