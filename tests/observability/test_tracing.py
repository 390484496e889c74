"""Traces (OpenTelemetry, the SDK's in-memory exporter): HTTP requests, a run's opening, its steps
and the skill runs they make, all in one trace; trace ids on the structured log lines."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import select

from talkative.observability import tracing
from talkative.observability.logging import JsonFormatter
from talkative.runs.models import Run
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.waiting import eventually

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def named(spans: InMemorySpanExporter, prefix: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name.startswith(prefix)]


def trace_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


async def test_a_request_is_a_server_span_in_the_callers_trace(
    client: httpx.AsyncClient, auth: Auth, spans: InMemorySpanExporter
) -> None:
    response = await client.get("/agents/nobody-here", headers={**auth(), "traceparent": CALLER})
    assert response.status_code == 404
    (span,) = named(spans, "GET /agents/")
    assert span.name == "GET /agents/{agent_id}"  # the route template, never the raw path
    assert span.kind == SpanKind.SERVER
    assert trace_of(span) == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/agents/{agent_id}"
    assert span.attributes["http.response.status_code"] == 404
    assert span.status.status_code != StatusCode.ERROR  # a 4xx is the client's, not a failure


async def test_a_message_run_and_its_tool_step_share_the_requests_trace(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, spans: InMemorySpanExporter
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await client.post(
        "/agents/mailer/message",
        json={"message": "triage inbox now"},
        headers={**auth(), "traceparent": CALLER},
    )
    assert reply.status_code == 200, reply.text
    run_id = reply.json()["run_id"]
    await eventually(lambda: named(spans, "execute_tool mail-triage"), what="no skill run span")

    (request,) = named(spans, "POST /agents/{agent_id}/message")
    (opening,) = named(spans, "run.open")
    (step,) = named(spans, "run.step tool")
    (tool,) = named(spans, "execute_tool mail-triage")
    assert {trace_of(s) for s in (request, opening, step, tool)} == {TRACE_ID}
    assert opening.parent is not None and request.context is not None
    assert opening.parent.span_id == request.context.span_id
    assert step.parent is not None and opening.context is not None
    assert step.parent.span_id == opening.context.span_id  # continued from the stored context
    assert (
        tool.parent is not None and step.context is not None and tool.parent.span_id == step.context.span_id
    )
    assert step.attributes is not None and step.attributes["talkative.run_id"] == run_id
    assert step.attributes["talkative.step_status"] == "done"
    assert tool.attributes is not None
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "mail-triage"
    async with app.state.sessionmaker() as session:
        stored = (await session.execute(select(Run.trace_parent).where(Run.id == run_id))).scalar_one()
    assert stored is not None and stored.split("-")[1] == TRACE_ID


async def test_a_run_without_a_tool_step_opens_in_the_requests_trace(
    client: httpx.AsyncClient, auth: Auth, spans: InMemorySpanExporter
) -> None:
    await running_agent(client, auth(), "nothing-attached")
    reply = await client.post(
        "/agents/nothing-attached/message", json={"message": "triage inbox now"}, headers=auth()
    )
    assert reply.status_code == 200, reply.text
    # No skill attached: the run opens and ends without a tool step, in a trace of its own.
    (opening,) = named(spans, "run.open")
    assert not named(spans, "execute_tool")
    (request,) = named(spans, "POST /agents/{agent_id}/message")
    assert trace_of(opening) == trace_of(request)


def test_log_lines_carry_the_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("talkative.test", logging.INFO, __file__, 1, "inside", None, None)
    with tracing.span("unit") as current:
        inside = json.loads(formatter.format(record))
        context = current.get_span_context()
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in json.loads(formatter.format(record))  # outside any span


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_exporting_starts_only_when_an_endpoint_is_configured(env: dict[str, str], wanted: bool) -> None:
    assert tracing.exporting_wanted(env) is wanted


def test_nothing_is_traced_by_default() -> None:
    with tracing.span("unrecorded"):
        assert tracing.traceparent() is None
        assert tracing.current_ids() is None
