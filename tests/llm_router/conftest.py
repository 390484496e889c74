"""Fixtures of the router's tests; other test packages can import them from `fake_openai` too."""

from __future__ import annotations

from tests.llm_router.fake_openai import fake_openai, fake_openai_factory

__all__ = ["fake_openai", "fake_openai_factory"]
