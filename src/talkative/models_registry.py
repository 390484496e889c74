"""Imports every domain's tables so Alembic and tests see the whole schema."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "talkative.agents.models",
    "talkative.events.models",
    "talkative.workflows.models",
    "talkative.runs.models",
    "talkative.approvals.models",
    "talkative.prompts.models",
    "talkative.channels.models",
    "talkative.llm_router.models",
    "talkative.fleet.models",
    "talkative.cluster.models",
    "talkative.webhooks.models",
    "talkative.approval_mail.models",
    "talkative.mcp_skills.models",
)


def import_all() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
