"""Model calls as OpenTelemetry spans, with the GenAI semantic conventions' names, against a real
server speaking the OpenAI protocol."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.llm_router.conftest import KEY
from tests.llm_router.fake_openai import FakeOpenAI, Reply

PRICES = {"openai/gpt-test": {"input_per_mtok": 1000.0, "output_per_mtok": 2000.0}}


async def _route_to_openai(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "asker")
    rules = {
        "default_model": "local",
        "routes": [{"match": ".", "model": "openai/gpt-test"}],
        "prices": PRICES,
    }
    response = await client.put("/router/admin/rules", json=rules, headers=auth("admin", None))
    assert response.status_code == 200, response.text


async def test_a_model_call_is_a_client_span_with_model_tokens_and_cost(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    spans: InMemorySpanExporter,
) -> None:
    _, client = routed
    await _route_to_openai(client, auth)
    fake_openai.reply = Reply(usage={"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150})
    reply = await client.post("/agents/asker/message", json={"message": "check the inbox"}, headers=auth())
    assert reply.status_code == 200, reply.text

    (call,) = [s for s in spans.get_finished_spans() if s.name == "chat gpt-test"]
    assert call.kind == SpanKind.CLIENT
    attributes = dict(call.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-test"
    assert attributes["gen_ai.usage.input_tokens"] == 120
    assert attributes["gen_ai.usage.output_tokens"] == 30
    assert attributes["talkative.cost_usd"] == (120 * 1000.0 + 30 * 2000.0) / 1_000_000
    (request,) = [s for s in spans.get_finished_spans() if s.name == "POST /agents/{agent_id}/message"]
    assert call.context is not None and request.context is not None
    assert call.context.trace_id == request.context.trace_id


async def test_a_failed_model_call_names_its_kind_and_nothing_the_provider_said(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    spans: InMemorySpanExporter,
) -> None:
    _, client = routed
    await _route_to_openai(client, auth)
    fake_openai.reply = Reply(status=401, raw_body=f'{{"error": {{"message": "bad key {KEY}"}}}}')
    reply = await client.post("/agents/asker/message", json={"message": "check the inbox"}, headers=auth())
    assert reply.status_code == 200, reply.text  # the local model answered instead

    (call,) = [s for s in spans.get_finished_spans() if s.name == "chat gpt-test"]
    assert call.status.status_code == StatusCode.ERROR
    attributes = dict(call.attributes or {})
    assert attributes["error.type"] == "http_error"
    dumped = call.to_json()
    assert KEY not in dumped and "bad key" not in dumped
