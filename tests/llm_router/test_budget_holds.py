"""Budget holds bound the bill: priced messages through the API to a real OpenAI-protocol server.

The fake server bills each request as a worst-case provider would (one token per byte of every
message, the whole `max_tokens` of output), so a hold that leaves out part of what is sent (the
provider's system prompt, multi-byte text) shows up as a ledger past its cap.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json, byte_tokenizer_usage
from tests.waiting import eventually

MODEL = "openai/gpt-test"
PER_MTOK = 1000.0  # $0.001 per token, input and output alike
PRICES = {MODEL: {"input_per_mtok": PER_MTOK, "output_per_mtok": PER_MTOK}}
MAX_TOKENS = 20
# Four bytes a character: a count of characters would hold a quarter of what this text bills.
PAID_IN_BYTES = "💸" * 60


def _bill(body: Any) -> float:
    usage = byte_tokenizer_usage(body)
    return (usage["prompt_tokens"] + usage["completion_tokens"]) * PER_MTOK / 1_000_000


async def _priced(client: httpx.AsyncClient, auth: Auth, agent: str, template: str | None = None) -> None:
    await running_agent(client, auth(), agent, template=template)
    rules = {
        "default_model": "local",
        "routes": [{"match": ".", "model": MODEL, "max_tokens": MAX_TOKENS}],
        "prices": PRICES,
    }
    response = await client.put("/router/admin/rules", json=rules, headers=auth("admin", None))
    assert response.status_code == 200, response.text


async def _rows(client: httpx.AsyncClient, auth: Auth) -> list[dict[str, Any]]:
    response = await client.get("/router/admin/usage", params={"limit": 1000}, headers=auth("admin", None))
    return [r for r in response.json()["usage"] if r["model"] == MODEL]


async def test_concurrent_priced_calls_never_pass_the_cap(
    routed: tuple[FastAPI, httpx.AsyncClient], fake_openai: FakeOpenAI, auth: Auth
) -> None:
    _, client = routed
    await _priced(client, auth, "spender", "mail-triage")
    fake_openai.reply = Reply(content=answer_json(["Spend"]), usage_of=byte_tokenizer_usage, delay_s=0.05)
    first = await client.post(
        "/agents/spender/message", json={"message": f"job 00 {PAID_IN_BYTES}"}, headers=auth()
    )
    assert first.status_code == 200, first.text
    one_call = _bill(fake_openai.last.body)
    cap = round(one_call * 6, 6)  # room for five more calls at most
    budgets = {"tenants": {"tenant-a": {"daily_cost_cap_usd": cap}}}
    saved = await client.put("/router/admin/budgets", json=budgets, headers=auth("admin", None))
    assert saved.status_code == 200, saved.text

    async def send(i: int) -> httpx.Response:
        text = f"job {i:02d} {PAID_IN_BYTES}"
        return await client.post("/agents/spender/message", json={"message": text}, headers=auth())

    responses = await asyncio.gather(*(send(i) for i in range(1, 25)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 402}, [r.text for r in responses if r.status_code not in (200, 402)]
    billed = sum(_bill(request.body) for request in fake_openai.requests)
    ledger = sum(r["cost"] for r in await _rows(client, auth))
    assert fake_openai.count == 1 + statuses.count(200) >= 2, statuses
    assert billed <= cap + 1e-9, f"{fake_openai.count} calls billed ${billed:.4f} against a cap of ${cap:.4f}"
    assert ledger <= cap + 1e-9, f"the ledger shows ${ledger:.4f} against a cap of ${cap:.4f}"
    assert ledger == pytest.approx(billed)
    spend = (await client.get("/router/admin/budgets", headers=auth("admin", "tenant-a"))).json()["spend"]
    assert spend["tenants"]["tenant-a"]["day"] == pytest.approx(ledger)


async def test_the_hold_covers_the_bill_of_the_request_as_sent(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The provider's system prompt (the answer format and every offered skill) is most of the
    request; the hold, taken before the call, is at least what the provider then bills."""
    _, client = routed
    await _priced(client, auth, "mailer", "mail-triage")
    fake_openai.reply = Reply(content=answer_json(["Sort"]), usage_of=byte_tokenizer_usage, delay_s=0.5)
    sending = asyncio.create_task(
        client.post("/agents/mailer/message", json={"message": f"sort {PAID_IN_BYTES}"}, headers=auth())
    )

    async def in_flight() -> dict[str, Any] | None:
        assert not sending.done(), "the call was never seen in flight"
        return next((r for r in await _rows(client, auth) if r["status"] == "reserved"), None)

    held = await eventually(in_flight, what="the call was never seen in flight")
    response = await sending
    assert response.status_code == 200, response.text
    system = fake_openai.last.body["messages"][0]
    assert system["role"] == "system" and "mail-triage" in system["content"]
    (row,) = await _rows(client, auth)
    assert (row["id"], row["status"]) == (held["id"], "ok")
    assert row["cost"] == pytest.approx(_bill(fake_openai.last.body)), "settled to the reported usage"
    assert held["cost"] >= row["cost"] > 0, f"held ${held['cost']:.6f} for a bill of ${row['cost']:.6f}"
    assert "billed" not in caplog.text


async def test_a_bill_above_the_hold_is_recorded_and_reported(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A provider should never bill more than the bound; if one does, the ledger tells the truth."""
    _, client = routed
    caplog.set_level(logging.WARNING)
    await _priced(client, auth, "overbilled")
    fake_openai.reply = Reply(
        content=answer_json(["Pay"]), usage={"prompt_tokens": 10_000, "completion_tokens": 0}
    )
    response = await client.post("/agents/overbilled/message", json={"message": "pay"}, headers=auth())
    assert response.status_code == 200, response.text
    (row,) = await _rows(client, auth)
    assert row["cost"] == pytest.approx(10.0) and row["prompt_tokens"] == 10_000
    assert f"{MODEL} billed $10.000000000 for a call held at" in caplog.text
    today = datetime.now(UTC).date().isoformat()
    metrics = (await client.get("/router/metrics", headers=auth("admin", None))).json()
    assert {d["day"]: d["cost"] for d in metrics["per_day"]}[today] == pytest.approx(10.0)
