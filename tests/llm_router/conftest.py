"""Fixtures of the router's tests; other test packages can import them from `fake_openai` too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from talkative.main import create_app
from talkative.settings import Settings
from tests.conftest import serving
from tests.llm_router.fake_openai import FakeOpenAI, fake_openai, fake_openai_factory

__all__ = ["KEY", "fake_openai", "fake_openai_factory", "routed"]

KEY = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture
async def routed(
    settings: Settings, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose OpenAI provider points at the fake server (the env is read at startup)."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    app = create_app(settings.model_copy(update={"llm_timeout_s": 1.0}))
    async with serving(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://talkative.test") as client:
            yield app, client
