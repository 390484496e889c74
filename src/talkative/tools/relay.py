"""Inside a run's sandbox: expose the egress proxy's Unix socket as a TCP proxy on its own loopback.

HTTP clients speak to a proxy over TCP (`HTTPS_PROXY=http://127.0.0.1:<port>`), but the run's
network namespace reaches nothing outside; the server's egress proxy (egress.py) is reachable only
through the Unix socket bind-mounted into the run. This relay, forked by the worker after it is
confined and before the script runs, copies bytes between the two. It decides nothing: the proxy
behind the socket enforces the allow-list. It dies with the run (the PID namespace ends with it).

Loaded by the launcher like confine.py (sibling file, not the package); stdlib only.
"""

from __future__ import annotations

import os
import socket
import threading

TYPE_CHECKING = False  # see launcher.py
if TYPE_CHECKING:
    from collections.abc import Callable

BUFFER = 64 * 1024
BACKLOG = 16


def listen() -> socket.socket:
    """A listening socket on the run's own loopback, any free port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(BACKLOG)
    return server


def proxy_env(port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {"HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url, "NO_PROXY": ""}


def _copy(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(BUFFER):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:  # noqa: SIM105 - contextlib is one import more inside every networked run
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _serve_one(client: socket.socket, target: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(target)
    except OSError:
        client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
    back.start()
    _copy(client, upstream)
    back.join()
    client.close()
    upstream.close()


def serve(server: socket.socket, target: str, accept: Callable[[], bool] = lambda: True) -> None:
    """Accept on `server` and relay each connection to the Unix socket `target`."""
    while accept():
        try:
            client, _ = server.accept()
        except OSError:
            return
        threading.Thread(target=_serve_one, args=(client, target), daemon=True).start()


def start(target: str) -> dict[str, str]:
    """Worker side: fork the relay, return the environment that points the script at it."""
    server = listen()
    port = server.getsockname()[1]
    if os.fork() == 0:
        try:
            serve(server, target)
        finally:
            os._exit(0)
    server.close()
    return proxy_env(port)
