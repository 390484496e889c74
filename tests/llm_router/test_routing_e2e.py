"""Messages through the router to a real OpenAI-compatible HTTP server (a fake one on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from talkative.main import create_app
from talkative.settings import Settings
from tests.conftest import serving
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.llm_router.conftest import KEY
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json

MODEL = "openai/gpt-test"
PRICES = {MODEL: {"input_per_mtok": 0.0, "output_per_mtok": 1000.0}}  # $0.001 per output token


async def _route_all_to_model(client: httpx.AsyncClient, auth: Auth, max_tokens: int = 50) -> None:
    rules = {
        "default_model": "local",
        "routes": [{"match": ".", "model": MODEL, "max_tokens": max_tokens}],
        "prices": PRICES,
    }
    response = await client.put("/router/admin/rules", json=rules, headers=auth("admin", None))
    assert response.status_code == 200, response.text


async def _usage(client: httpx.AsyncClient, auth: Auth) -> list[dict[str, Any]]:
    return (await client.get("/router/admin/usage", headers=auth("admin", None))).json()["usage"]  # type: ignore[no-any-return]


async def test_priced_model_answers_and_is_charged(
    routed: tuple[FastAPI, httpx.AsyncClient], fake_openai: FakeOpenAI, auth: Auth
) -> None:
    _, client = routed
    await running_agent(client, auth(), "mailer", template="mail-triage")
    await _route_all_to_model(client, auth)
    fake_openai.reply = Reply(
        content=answer_json(["Sort the mail", "File receipts"], [[0, 1]], ["mail-triage"]),
        usage={"prompt_tokens": 321, "completion_tokens": 40},
    )
    reply = (
        await client.post("/agents/mailer/message", json={"message": "hello there"}, headers=auth())
    ).json()
    assert fake_openai.count == 1
    assert fake_openai.last.authorization == f"Bearer {KEY}" and fake_openai.last.model == "gpt-test"
    assert [t["name"] for t in reply["interpretation"]["tasks"]] == ["Sort the mail", "File receipts"]
    assert ("tool.executed", "mail-triage") in [(a["type"], a.get("skill")) for a in reply["actions"]]
    (row,) = [r for r in await _usage(client, auth) if r["model"] == MODEL]
    assert (row["prompt_tokens"], row["completion_tokens"], row["tokens"]) == (321, 40, 361)
    assert row["cost"] == pytest.approx(0.04) and row["status"] == "ok" and row["run_id"] == reply["run_id"]
    metrics = (await client.get("/router/metrics", headers=auth("admin", None))).json()
    per_model = {m["model"]: m for m in metrics["per_model"]}
    assert per_model[MODEL]["cost"] == pytest.approx(0.04) and per_model[MODEL]["tokens"] == 361


async def test_budget_holds_under_concurrency(
    routed: tuple[FastAPI, httpx.AsyncClient], fake_openai: FakeOpenAI, auth: Auth
) -> None:
    """A cap worth exactly N calls: of 3N concurrent messages exactly N reach the provider."""
    _, client = routed
    n, max_tokens = 3, 50
    await running_agent(client, auth(), "spender")
    await _route_all_to_model(client, auth, max_tokens=max_tokens)
    worst_case = max_tokens * 1000.0 / 1_000_000
    budgets = {"tenants": {"tenant-a": {"daily_cost_cap_usd": n * worst_case}}}
    assert (
        await client.put("/router/admin/budgets", json=budgets, headers=auth("admin", None))
    ).status_code == 200
    fake_openai.reply = Reply(
        content=answer_json(["Spend"]),
        usage={"prompt_tokens": 5, "completion_tokens": max_tokens},
        delay_s=0.05,
    )

    async def send(i: int) -> httpx.Response:
        return await client.post("/agents/spender/message", json={"message": f"job {i}"}, headers=auth())

    responses = await asyncio.gather(*(send(i) for i in range(3 * n)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * n + [402] * (2 * n), [r.text for r in responses]
    assert fake_openai.count == n
    refused = [r.json() for r in responses if r.status_code == 402]
    assert all(body["code"] == "BUDGET_EXCEEDED" and "tenant daily" in body["error"] for body in refused)
    runs = (await client.get("/orchestrator/runs", params={"agent_id": "spender"}, headers=auth())).json()[
        "runs"
    ]
    assert sorted(r["status"] for r in runs) == ["completed"] * n + ["failed"] * (2 * n)
    failed = next(r for r in runs if r["status"] == "failed")
    detail = (await client.get(f"/orchestrator/runs/{failed['run_id']}", headers=auth())).json()
    assert "BUDGET_EXCEEDED" in [s["name"] for s in detail["steps"]]


@pytest.mark.parametrize(
    ("case", "reply"),
    [
        ("down", Reply(status=503, retry_after_ms=1)),
        ("timeout", Reply(delay_s=3.0)),
        ("malformed", Reply(raw_body="{not json")),
        ("invalid", Reply(content='{"tasks": "not a list"}')),
    ],
)
async def test_provider_failures_fall_back_to_local(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    caplog: pytest.LogCaptureFixture,
    case: str,
    reply: Reply,
) -> None:
    _, client = routed
    caplog.set_level(logging.DEBUG)
    await running_agent(client, auth(), "resilient")
    await _route_all_to_model(client, auth)
    fake_openai.reply = reply
    response = await client.post(
        "/agents/resilient/message", json={"message": "collect invoices then pay supplier"}, headers=auth()
    )
    body = response.json()
    assert response.status_code == 200 and body["run_status"] == "completed", (case, body)
    assert [t["name"] for t in body["interpretation"]["tasks"]] == ["Collect invoices", "Pay supplier"]
    rows = [r for r in await _usage(client, auth) if r["run_id"] == body["run_id"]]
    assert [(r["model"], r["status"]) for r in rows] == [(MODEL, "error"), ("local", "ok")], case
    assert rows[0]["cost"] == 0.0 and rows[0]["error"]
    # The key never leaves: not in the reply, the events, the ledger, the metrics or any log line.
    events = (await client.get("/agents/resilient/events", params={"tail": 50}, headers=auth())).json()
    for blob in (response.text, str(events), str(rows), (await client.get("/metrics")).text, caplog.text):
        assert KEY not in blob, case


async def test_unconfigured_provider_is_an_error_row(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, auth: Auth
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    app = create_app(settings)
    async with (
        serving(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await running_agent(client, auth(), "offline")
        await _route_all_to_model(client, auth)
        body = (
            await client.post("/agents/offline/message", json={"message": "a then b"}, headers=auth())
        ).json()
        rows = [r for r in await _usage(client, auth) if r["run_id"] == body["run_id"]]
    assert body["run_status"] == "completed"
    assert [(r["model"], r["status"]) for r in rows] == [(MODEL, "error"), ("local", "ok")]
    assert "not configured" in rows[0]["error"]
