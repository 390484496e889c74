"""The HTTP server: uvicorn, told to end the open event streams as soon as shutdown begins.

uvicorn's graceful shutdown waits for every response in progress; an SSE stream never finishes on
its own, so a browser tab holding GET /events kept the server up for the whole graceful timeout,
after which uvicorn cancelled the stream (and logged a CancelledError traceback). Ending the streams
first lets each send its last chunk and the shutdown go on at once.
"""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("talkative")
STARTUP_FAILURE = 3  # uvicorn.run's exit status when the app could not start


class StreamEndingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        bus = getattr(self._app.state, "bus", None)  # absent when the app never started
        if bus is not None:
            log.info("ending %d open event stream(s) for the shutdown", bus.subscriber_count)
            bus.end_streams()
        await super().shutdown(sockets)


def serve(app: FastAPI, *, host: str, port: int, timeout_graceful_shutdown: int) -> None:
    """`uvicorn.run(app, ...)` with open event streams ended as shutdown begins."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
    )
    server = StreamEndingServer(config, app)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
