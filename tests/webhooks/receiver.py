"""A real HTTP receiver on loopback for webhook tests: records every POST, answers set statuses."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int  # what the receiver answered
    method: str = "POST"
    path: str = "/hook?source=talkative"


@dataclass
class Receiver:
    port: int = 0
    status: int = 200  # the answer once `script` is used up
    script: list[int] = field(default_factory=list)  # the next answers, in order
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?source=talkative"

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else self.status

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        return [r for r in self.requests() if 200 <= r.status < 300]


@contextlib.contextmanager
def receiving(status: int = 200, script: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(status=status, script=list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer()
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                receiver.received.append(Received(headers, body, status, self.command, self.path))
            reply = b"ok" if status < 300 else b"not now " + b"x" * 1000  # longer than the excerpt kept
            self.send_response(status)
            if 300 <= status < 400:  # a redirect a sender must not follow
                self.send_header("Location", "/followed")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST  # recorded too: a followed redirect would show here

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
