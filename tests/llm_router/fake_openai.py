"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: `POST /v1/chat/completions`.

Each test sets what the server answers (`server.reply = Reply(...)`, or `server.queue(...)` for
the next requests only) and reads what it received (`server.requests`, `server.count`). Error
answers quote the key the server was sent, as OpenAI's 401 does, so tests can prove it never
travels further. Use the `fake_openai` fixture, or `fake_openai_factory` for several servers:

    from tests.llm_router.fake_openai import fake_openai, fake_openai_factory  # in a conftest
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEFAULT_USAGE = {"prompt_tokens": 123, "completion_tokens": 45}


def answer_json(
    tasks: list[str] | None = None, links: list[list[int]] | None = None, skills: list[str] | None = None
) -> str:
    """The structured answer the router asks the model for, as the model would write it."""
    return json.dumps({"tasks": tasks or [], "links": links or [], "skills": skills or []})


@dataclass
class Reply:
    """What the server answers to one request."""

    content: str | None = field(default_factory=lambda: answer_json(["Check the inbox"]))
    status: int = 200
    delay_s: float = 0.0  # before answering (the server waits, the client may time out)
    usage: dict[str, int] | None = field(default_factory=lambda: dict(DEFAULT_USAGE))  # None: no `usage`
    model: str | None = None  # the model named in the answer; None echoes the requested one
    raw_body: str | None = None  # sent as is instead of a chat completion (malformed answers)
    retry_after_ms: int | None = None  # lets the SDK retry quickly after an error status
    choices: list[dict[str, Any]] | None = None  # overrides the one choice built from `content`
    content_type: str = "application/json"
    usage_of: Callable[[Any], dict[str, int]] | None = None  # usage computed from the request body
    gate: threading.Event | None = None  # answers only once the test sets it (a call in flight)


def byte_tokenizer_usage(body: Any) -> dict[str, int]:
    """The most a real provider could bill for `body`: one token per UTF-8 byte of every message
    (what a byte-level BPE does at worst), OpenAI's 3 format tokens per message and 3 to prime the
    reply, and the whole `max_tokens` of output."""
    messages = body.get("messages", [])
    prompt = 3 + sum(3 + len(str(m.get("content", "")).encode()) for m in messages)
    return {"prompt_tokens": prompt, "completion_tokens": int(body.get("max_tokens") or 0)}


@dataclass(frozen=True)
class Received:
    path: str
    authorization: str | None
    headers: dict[str, str]
    body: Any  # the parsed JSON, or the raw text if it was not JSON

    @property
    def model(self) -> Any:
        return self.body.get("model") if isinstance(self.body, dict) else None


class FakeOpenAI:
    def __init__(self, reply: Reply | None = None) -> None:
        self.reply = reply or Reply()
        self.requests: list[Received] = []
        self._queued: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll keeps `stop()` (which waits for the serving loop to notice) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def last(self) -> Received:
        with self._lock:
            return self.requests[-1]

    def queue(self, *replies: Reply) -> None:
        """Answers for the next requests, in order; `reply` answers once they are used up."""
        with self._lock:
            self._queued.extend(replies)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are waiting out a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _take(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self._queued.popleft() if self._queued else self.reply


def _handler_for(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw
            auth = self.headers.get("Authorization")
            received = Received(self.path, auth, {k.lower(): v for k, v in self.headers.items()}, body)
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            reply = server._take(received)
            if reply.delay_s and server._stopping.wait(reply.delay_s):
                self.close_connection = True
                return
            while reply.gate is not None and not reply.gate.wait(0.02):
                if server._stopping.is_set():
                    self.close_connection = True
                    return
            if reply.raw_body is not None:
                self._send(reply.status, reply.raw_body)
            elif reply.status != 200:
                message = f"Incorrect API key provided: {(auth or '').removeprefix('Bearer ')}"
                self._send(reply.status, {"error": {"message": message, "type": "error"}}, reply)
            else:
                self._send(200, _completion(reply, received), reply)

        def _send(self, status: int, payload: object, reply: Reply | None = None) -> None:
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", reply.content_type if reply else "application/json")
                self.send_header("Content-Length", str(len(data)))
                if reply is not None and reply.retry_after_ms is not None:
                    self.send_header("retry-after-ms", str(reply.retry_after_ms))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timed out) first

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def _completion(reply: Reply, received: Received) -> dict[str, Any]:
    choices = reply.choices
    if choices is None:
        message = {"role": "assistant", "content": reply.content}
        choices = [{"index": 0, "message": message, "finish_reason": "stop"}]
    body: dict[str, Any] = {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model if reply.model is not None else received.model,
        "choices": choices,
    }
    usage = reply.usage_of(received.body) if reply.usage_of is not None else reply.usage
    if usage is not None:
        total = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
        body["usage"] = {**usage, "total_tokens": total}
    return body


@contextmanager
def serve_fake_openai(reply: Reply | None = None) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(reply).start()
    try:
        yield server
    finally:
        server.stop()


FakeOpenAIFactory = Callable[..., FakeOpenAI]


@pytest.fixture
def fake_openai_factory() -> Iterator[FakeOpenAIFactory]:
    """Starts fake servers on demand (`factory(Reply(...))`); all are stopped after the test."""
    servers: list[FakeOpenAI] = []

    def factory(reply: Reply | None = None) -> FakeOpenAI:
        server = FakeOpenAI(reply).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def fake_openai(fake_openai_factory: FakeOpenAIFactory) -> FakeOpenAI:
    return fake_openai_factory()
