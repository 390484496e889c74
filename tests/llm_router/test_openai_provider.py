"""The OpenAI-compatible provider against a real HTTP server speaking the chat completions protocol."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import AsyncIterator, Callable

import pytest

from talkative.llm_router.providers.base import Completion, CompletionRequest, ProviderError, ProviderOptions
from talkative.llm_router.providers.openai import OpenAIProvider, system_prompt
from talkative.tokens import estimate_tokens
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json
from tests.waiting import within

KEY = "sk-test-0123456789abcdefSECRET"
SKILLS = [
    ("mail-triage", "Sorts the inbox into\nurgent and later."),
    ("monthly-bookkeeping", "Summarises the month's transactions."),
    ("git-watcher", "Watches a repository."),
]
MESSAGE = "Check the inbox and then pay supplier Bob"
PROMPT = f"You are Ana's agent.\n\n[USER MESSAGE]\n{MESSAGE}"
FAST = ProviderOptions(timeout_s=2.0, max_retries=0)

ProviderFor = Callable[..., OpenAIProvider]


@pytest.fixture
async def provider_for() -> AsyncIterator[ProviderFor]:
    made: list[OpenAIProvider] = []

    def factory(server: FakeOpenAI | str, options: ProviderOptions = FAST) -> OpenAIProvider:
        base_url = server if isinstance(server, str) else server.base_url
        provider = OpenAIProvider(api_key=KEY, base_url=base_url, options=options)
        made.append(provider)
        return provider

    yield factory
    for provider in made:
        await provider.aclose()


def _request(message: str = MESSAGE, prompt: str = PROMPT) -> CompletionRequest:
    return CompletionRequest(
        model="gpt-4o-mini", prompt=prompt, message=message, skills=SKILLS, max_tokens=321
    )


async def _fail(provider: OpenAIProvider, request: CompletionRequest | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await provider.complete(request or _request())
    return caught.value


async def test_the_structured_answer_becomes_an_interpretation(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    content = answer_json(
        ["Check the inbox", "Pay supplier Bob"],
        [[0, 1]],
        ["mail-triage", "MONTHLY-bookkeeping", "rm -rf", "mail-triage"],
    )
    fake_openai.reply = Reply(content=content, usage={"prompt_tokens": 812, "completion_tokens": 57})
    completion = await provider_for(fake_openai).complete(_request())

    interpretation = completion.interpretation
    assert [(t.id, t.name) for t in interpretation.tasks] == [
        ("check-the-inbox", "Check the inbox"),
        ("pay-supplier-bob", "Pay supplier Bob"),
    ]
    assert [(link.source, link.target) for link in interpretation.links] == [
        ("check-the-inbox", "pay-supplier-bob")
    ]
    assert [n.id for n in interpretation.suggestions.nodes] == ["check-the-inbox", "pay-supplier-bob"]
    assert [e.id for e in interpretation.suggestions.edges] == ["check-the-inbox--pay-supplier-bob"]
    assert interpretation.language == "en"
    assert interpretation.summary == "Detected 2 tasks: Check the inbox → Pay supplier Bob."
    # unknown skills are dropped, names are matched case-insensitively and kept once
    assert completion.selected_skills == ["mail-triage", "monthly-bookkeeping"]
    assert (completion.prompt_tokens, completion.completion_tokens) == (812, 57)
    assert completion.raw_model == "gpt-4o-mini"


async def test_the_request_carries_the_key_the_model_and_the_schema(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    await provider_for(fake_openai).complete(_request())
    assert fake_openai.count == 1
    seen = fake_openai.last
    assert seen.path == "/v1/chat/completions"
    assert seen.authorization == f"Bearer {KEY}"
    body = seen.body
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 321
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    assert user["content"] == PROMPT
    assert system["content"] == system_prompt(SKILLS)
    assert (
        '{"tasks": ["<task>", ...], "links": [[<i>, <j>], ...], "skills": ["<skill name>", ...]}'
        in system["content"]
    )
    assert "- mail-triage: Sorts the inbox into urgent and later." in system["content"]
    assert "- git-watcher: Watches a repository." in system["content"]


async def test_duplicate_tasks_merge_and_ids_stay_unique(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    tasks = ["Pagar a Bob", "pagar  a BOB", "Pagar-a-Bob", "Revisar el correo"]
    fake_openai.reply = Reply(content=answer_json(tasks, [[0, 2], [1, 2], [0, 1], [3, 0]]))
    completion = await provider_for(fake_openai).complete(_request(message="Pagar a Bob y revisar el correo"))
    interpretation = completion.interpretation
    assert [(t.id, t.name) for t in interpretation.tasks] == [
        ("pagar-a-bob", "Pagar a Bob"),
        ("pagar-a-bob-2", "Pagar-a-Bob"),
        ("revisar-el-correo", "Revisar el correo"),
    ]
    # [0, 2] and [1, 2] are the same link once merged; [0, 1] became a self-link and is dropped
    assert [(x.source, x.target) for x in interpretation.links] == [
        ("pagar-a-bob", "pagar-a-bob-2"),
        ("revisar-el-correo", "pagar-a-bob"),
    ]
    assert interpretation.language == "es"


async def test_an_answer_without_tasks_is_an_empty_interpretation(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    fake_openai.reply = Reply(content=answer_json([], [], ["git-watcher"]))
    completion = await provider_for(fake_openai).complete(_request(message="hello"))
    assert completion.interpretation.tasks == []
    assert completion.interpretation.summary == "No tasks detected."
    assert completion.interpretation.language is None
    assert completion.selected_skills == ["git-watcher"]


async def test_without_usage_the_tokens_are_estimated(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    """The input is counted at its bound (what was held): never below what may be billed."""
    content = answer_json(["Check the inbox"])
    fake_openai.reply = Reply(content=content, usage=None, model="gpt-4o-mini-2024-07-18")
    provider = provider_for(fake_openai)
    completion = await provider.complete(_request())
    assert completion.prompt_tokens == provider.input_bound(_request())
    assert completion.prompt_tokens > len((system_prompt(SKILLS) + PROMPT).encode())
    assert completion.completion_tokens == estimate_tokens(content)
    assert completion.raw_model == "gpt-4o-mini-2024-07-18"


async def test_a_json_answer_in_a_markdown_fence_is_read(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    fake_openai.reply = Reply(content="```json\n" + answer_json(["Check the inbox"]) + "\n```")
    completion = await provider_for(fake_openai).complete(_request())
    assert [t.name for t in completion.interpretation.tasks] == ["Check the inbox"]


INVALID_ANSWERS: list[tuple[str, Reply, str]] = [
    ("content not json", Reply(content="Sure! Here are your tasks: check inbox"), "not a JSON object"),
    ("content cut short", Reply(content='{"tasks": ["Check the in'), "not a JSON object"),
    ("content a list", Reply(content='["Check the inbox"]'), "invalid answer"),
    ("tasks not a list", Reply(content='{"tasks": "Check the inbox"}'), "tasks"),
    ("empty task", Reply(content=answer_json(["Check", "  "])), "tasks[1]"),
    ("task too long", Reply(content=answer_json(["x" * 201])), "tasks[0]"),
    ("too many tasks", Reply(content=answer_json([f"Task {i}" for i in range(21)])), "tasks"),
    ("link out of range", Reply(content=answer_json(["A", "B"], [[0, 2]])), "links[0] = [0, 2]"),
    ("negative link", Reply(content=answer_json(["A", "B"], [[-1, 0]])), "links[0] = [-1, 0]"),
    ("self link", Reply(content=answer_json(["A", "B"], [[1, 1]])), "links[0] = [1, 1]"),
    ("link not ints", Reply(content='{"tasks": ["A", "B"], "links": [[0, "1"]]}'), "links[0][1]"),
    ("skills not a list", Reply(content='{"tasks": ["A"], "skills": "mail-triage"}'), "skills"),
    ("no content", Reply(content=None), "no text content"),
    ("no choices", Reply(choices=[]), "no text content"),
    ("body not json", Reply(raw_body="<html>bad gateway</html>"), "not a chat completion"),
    ("body not a completion", Reply(raw_body='{"id": "x"}'), "no text content"),
    ("plain text body", Reply(raw_body="hello", content_type="text/plain"), "openai:"),
]


@pytest.mark.parametrize(
    ("reply", "expected"), [c[1:] for c in INVALID_ANSWERS], ids=[c[0] for c in INVALID_ANSWERS]
)
async def test_invalid_answers_are_refused(
    fake_openai: FakeOpenAI, provider_for: ProviderFor, reply: Reply, expected: str
) -> None:
    fake_openai.reply = reply
    error = await _fail(provider_for(fake_openai, ProviderOptions(timeout_s=2, max_retries=2)))
    assert error.kind == "invalid_answer"
    assert expected in str(error)
    assert fake_openai.count == 1  # a bad answer is not retried


async def test_a_slow_endpoint_times_out_after_bounded_retries(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    fake_openai.reply = Reply(delay_s=5)
    provider = provider_for(fake_openai, ProviderOptions(timeout_s=0.2, max_retries=2))
    # Each attempt gave up at 0.2 s: waiting out the 5 s delay would have got an answer.
    error = await within(_fail(provider), what="the provider waited beyond its timeout and retries")
    assert error.kind == "timeout"
    assert str(error) == "openai: no answer within 0.2s (3 attempts)"
    assert fake_openai.count == 3  # one try and two retries, no more


async def test_without_retries_one_request_is_sent(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    fake_openai.reply = Reply(delay_s=5)
    error = await _fail(provider_for(fake_openai, ProviderOptions(timeout_s=0.2, max_retries=0)))
    assert (error.kind, fake_openai.count) == ("timeout", 1)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_retried_then_unavailable(
    fake_openai: FakeOpenAI, provider_for: ProviderFor, status: int
) -> None:
    fake_openai.reply = Reply(status=status, retry_after_ms=1)
    error = await _fail(provider_for(fake_openai, ProviderOptions(timeout_s=2, max_retries=2)))
    assert (error.kind, error.status_code) == ("unavailable", status)
    assert str(error) == f"openai: HTTP {status}: the endpoint is unavailable"
    assert fake_openai.count == 3


async def test_a_retry_that_succeeds_is_a_normal_answer(
    fake_openai: FakeOpenAI, provider_for: ProviderFor
) -> None:
    fake_openai.queue(Reply(status=500, retry_after_ms=1))
    completion = await provider_for(fake_openai, ProviderOptions(timeout_s=2, max_retries=2)).complete(
        _request()
    )
    assert isinstance(completion, Completion)
    assert fake_openai.count == 2


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "openai: HTTP 400: the endpoint refused the request"),
        (404, "openai: HTTP 404: the endpoint refused the request"),
        (401, "openai: HTTP 401: the endpoint refused the API key"),
        (403, "openai: HTTP 403: the endpoint refused the API key"),
    ],
)
async def test_client_errors_are_not_retried(
    fake_openai: FakeOpenAI, provider_for: ProviderFor, status: int, expected: str
) -> None:
    fake_openai.reply = Reply(status=status)
    error = await _fail(provider_for(fake_openai, ProviderOptions(timeout_s=2, max_retries=2)))
    assert (error.kind, error.status_code, str(error)) == ("http_error", status, expected)
    assert fake_openai.count == 1


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def test_an_unreachable_endpoint_is_unavailable(provider_for: ProviderFor) -> None:
    error = await _fail(provider_for(_closed_port_url()))
    assert error.kind == "unavailable"
    assert str(error) == "openai: cannot reach the endpoint (1 attempt)"


# One scenario per failure kind; the fake server's error bodies quote the key it received.
LEAK_SCENARIOS: list[tuple[str, Reply | None, str]] = [
    ("timeout", Reply(delay_s=5), "timeout"),
    ("server error", Reply(status=500), "unavailable"),
    ("unauthorized", Reply(status=401), "http_error"),
    ("bad request", Reply(status=400), "http_error"),
    ("malformed json", Reply(content="{not json"), "invalid_answer"),
    ("schema invalid", Reply(content=answer_json(["A"], [[0, 5]])), "invalid_answer"),
    ("unreachable", None, "unavailable"),
]


@pytest.mark.parametrize(
    ("reply", "kind"), [c[1:] for c in LEAK_SCENARIOS], ids=[c[0] for c in LEAK_SCENARIOS]
)
async def test_the_key_never_appears_in_errors_or_logs(
    fake_openai: FakeOpenAI,
    provider_for: ProviderFor,
    caplog: pytest.LogCaptureFixture,
    reply: Reply | None,
    kind: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    options = ProviderOptions(timeout_s=0.2, max_retries=0)
    if reply is None:
        provider = provider_for(_closed_port_url(), options)
    else:
        fake_openai.reply = reply
        provider = provider_for(fake_openai, options)
    error = await _fail(provider)
    assert error.kind == kind
    if reply is not None:
        # the key reached the server, whose error bodies quote it back to the SDK
        assert fake_openai.last.authorization == f"Bearer {KEY}"
    shown = [str(error), repr(error), error.message, "".join(traceback.format_exception(error))]
    assert not any(KEY in text or KEY[-12:] in text for text in shown)
    assert error.__cause__ is None and error.__context__ is None  # no SDK exception rides along
    assert KEY not in caplog.text and KEY[-12:] not in caplog.text
    assert caplog.records  # the SDK did log (at debug level), just not the key
