"""Checks shared by the local and SSH provisioning tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from talkative.skills import catalogue
from tests.conftest import TEST_SECRET

Auth = Callable[..., dict[str, str]]
CONFIG_KEYS = {"agent_id", "tenant_id", "name", "node_id", "skills", "heartbeatMinutes", "provisioned_at"}
MAIL_TRIAGE_RUN = (
    "RUN python skills/mail-triage/scripts/triage.py --inbox inputs/inbox.json --out outputs/mail-triage.json"
)


async def create(client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def assert_laid_out(
    folder: Path, *, agent_id: str, tenant_id: str, node_id: str, skills: list[str]
) -> dict[str, Any]:
    """The agent's folder holds the full layout and a config.json without secrets; returns the config."""
    assert folder.is_dir(), folder
    config: dict[str, Any] = json.loads((folder / "config.json").read_text())
    assert set(config) == CONFIG_KEYS
    assert (config["agent_id"], config["tenant_id"], config["node_id"], config["skills"]) == (
        agent_id,
        tenant_id,
        node_id,
        skills,
    )
    assert datetime.fromisoformat(config["provisioned_at"]).tzinfo is not None
    assert (folder / "HEARTBEAT.md").is_file()
    assert (folder / "inputs").is_dir() and (folder / "outputs").is_dir()
    assert set(skills) <= {p.name for p in (folder / "skills").iterdir()}
    for name in skills:
        template = catalogue.get_template(name).folder
        assert (folder / "skills" / name / "SKILL.md").read_bytes() == (template / "SKILL.md").read_bytes()
        assert (folder / "skills" / name / "scripts").is_dir()
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert TEST_SECRET.encode() not in text and b"PRIVATE KEY" not in text, path
    return config
