"""A small SSE client for tests: reads `GET /events` on a thread and collects the events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from tests.waiting import eventually_sync


class SseCollector:
    def __init__(
        self, url: str, token: str, *, last_event_id: str | int | None = None, use_query_token: bool = False
    ):
        self.events: list[dict[str, Any]] = []
        self.ids: list[int] = []  # the events' ids
        self.positions: list[str] = []  # their stream positions (the SSE ids, to resume after)
        self.comments: list[str] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        headers = {} if use_query_token else {"Authorization": f"Bearer {token}"}
        params = {"access_token": token} if use_query_token else {}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._args = (f"{url}/events", headers, params)
        self.status: int | None = None
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SseCollector:
        self._thread.start()
        assert self.connected.wait(10), "SSE stream did not connect"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._response is not None:
            self._response.close()  # unblocks the reader now instead of at the next keep-alive
        self._thread.join(timeout=10)

    def _run(self) -> None:
        url, headers, params = self._args
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(30, read=60)) as client,
                client.stream("GET", url, headers=headers, params=params) as response,
            ):
                self._response = response
                self.status = response.status_code
                self.connected.set()
                if response.status_code == 200:
                    self._read(response)
        except (httpx.HTTPError, OSError, ValueError, AttributeError):
            if not self._stop.is_set():
                raise  # a real failure, not our own close on exit
        finally:
            self.connected.set()

    def _read(self, response: httpx.Response) -> None:
        position = ""
        for line in response.iter_lines():
            if self._stop.is_set():
                return
            if line.startswith("id: "):
                position = line[4:]
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                self.events.append(event)
                self.ids.append(event["id"])
                self.positions.append(position)
            elif line.startswith(":"):
                self.comments.append(line)

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        eventually_sync(
            lambda: predicate(self.events),
            what=lambda: f"SSE events never satisfied the condition; got {[e['type'] for e in self.events]}",
        )
        return list(self.events)
