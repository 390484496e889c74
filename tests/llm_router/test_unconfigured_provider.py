"""A stored route to a provider this server cannot call never breaks a read; its calls go local.

Rules are checked against the known providers when saved. A provider may later be left without
credentials, or be gone altogether (another process, a plugin removed): the rules in force are then
still read, the budgets and spend still shown, and the route is reported as falling back to local.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from talkative.llm_router.providers import openai
from talkative.llm_router.providers.base import ProviderOptions
from tests.factories import Auth
from tests.factories.agents import running_agent

RULES, BUDGETS, USAGE, METRICS = (
    "/router/admin/rules",
    "/router/admin/budgets",
    "/router/admin/usage",
    "/router/metrics",
)
MINI = "openai/gpt-4o-mini"
SAVED_RULES = {
    "default_model": "local",
    "routes": [{"match": "invoice", "model": MINI, "max_tokens": 200}],
    "prices": {MINI: {"input_per_mtok": 0.15, "output_per_mtok": 0.6}},
}
SAVED_BUDGETS: dict[str, Any] = {
    "global_daily_cost_cap_usd": 5,
    # 0: only free calls. A call its provider cannot take is never sent, so it is free.
    "tenants": {"tenant-a": {"daily_cost_cap_usd": 0}},
    "agents": {"tenant-a": {"mailer": {"daily_cost_cap_usd": 0.5}}},
}


@pytest.fixture
def unconfigured_openai(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenAI provider as a server without OPENAI_API_KEY has it, whatever this shell's env."""
    providers = app.state.runtime.providers
    monkeypatch.setitem(providers, "openai", openai.build({}, ProviderOptions(timeout_s=1.0, max_retries=0)))
    assert not providers["openai"].configured()


async def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def _reads_work(client: httpx.AsyncClient, auth: Auth) -> None:
    for role, tenant in (("admin", None), ("admin", "tenant-a"), ("viewer", "tenant-a")):
        headers = auth(role, tenant)
        rules = await _ok(await client.get(RULES, headers=headers))
        assert rules["routes"] == SAVED_RULES["routes"] and rules["falls_back"] == [MINI], rules
        budgets = await _ok(await client.get(BUDGETS, headers=headers))
        assert budgets["tenants"]["tenant-a"]["daily_cost_cap_usd"] == 0, budgets
        assert budgets["spend"]["tenants"]["tenant-a"]["day"] == 0, budgets
        await _ok(await client.get(METRICS, headers=headers))


async def _invoice_is_answered_locally(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "clerk")
    sent = await client.post("/agents/clerk/message", json={"message": "an invoice"}, headers=auth())
    assert sent.status_code == 200, sent.text
    usage = (await _ok(await client.get(USAGE, headers=auth("admin", None))))["usage"]
    by_model = {row["model"]: row for row in usage}
    assert set(by_model) == {MINI, "local"}, usage
    assert by_model[MINI]["status"] == "error" and "not configured" in by_model[MINI]["error"], usage
    assert by_model[MINI]["cost"] == 0 and by_model["local"]["status"] == "ok", usage


@pytest.mark.usefixtures("unconfigured_openai")
async def test_a_route_to_an_unconfigured_provider_is_saved_and_falls_back(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    fresh = await _ok(await client.get(RULES, headers=auth("viewer")))
    assert (fresh["providers"], fresh["falls_back"]) == ({"local": True, "openai": False}, [])
    saved = await _ok(await client.put(RULES, json=SAVED_RULES, headers=auth("admin", None)))
    assert saved["falls_back"] == [MINI]
    await _ok(await client.put(BUDGETS, json=SAVED_BUDGETS, headers=auth("admin", None)))
    await _reads_work(client, auth)
    await _invoice_is_answered_locally(client, auth)


async def test_a_stored_route_to_a_provider_gone_since_breaks_no_read(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _ok(await client.put(RULES, json=SAVED_RULES, headers=auth("admin", None)))
    await _ok(await client.put(BUDGETS, json=SAVED_BUDGETS, headers=auth("admin", None)))
    monkeypatch.delitem(app.state.runtime.providers, "openai")
    await _reads_work(client, auth)
    # Saving is still checked against the providers that exist now.
    refused = await client.put(RULES, json=SAVED_RULES, headers=auth("admin", None))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "INVALID_RULES"
    assert "routes[0].model: unknown provider 'openai' (known: local)" in refused.json()["error"]
    await _invoice_is_answered_locally(client, auth)
