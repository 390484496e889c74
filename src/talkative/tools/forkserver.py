"""Server side of the fork server (see zygote.py): start it, ask it for launchers, learn their exits.

`spawn` returns a `ForkedLauncher` that behaves like the `asyncio.subprocess.Process` the runner
would otherwise get (pid, stdout/stderr readers, wait, send_signal, returncode). One fork server per
event loop, started on first use from the loop's thread (its parent-death signal is tied to the
thread that starts it). Anything unexpected (it cannot start, it died, it does not answer) raises
`ForkServerUnavailable`, and the runner starts the launcher the old way instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
ZYGOTE = Path(__file__).resolve().with_name("zygote.py")
REPLY_TIMEOUT_S = 5.0
MAX_MESSAGE = 1 << 16


class ForkServerUnavailable(Exception):
    """The fork server cannot take this request; start the launcher directly."""


class ForkedLauncher:
    """A launcher forked by the zygote, seen like an asyncio subprocess."""

    def __init__(self, pid: int, exit_status: asyncio.Future[int], stdout: asyncio.StreamReader,
                 stderr: asyncio.StreamReader, transports: list[asyncio.BaseTransport]) -> None:  # fmt: skip
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self._exit = exit_status
        self._transports = transports

    @property
    def returncode(self) -> int | None:
        return os.waitstatus_to_exitcode(self._exit.result()) if self._exit.done() else None

    async def wait(self) -> int:
        status = await asyncio.shield(self._exit)
        return os.waitstatus_to_exitcode(status)

    def send_signal(self, signum: int) -> None:
        # Not once its exit was reported: the zygote has reaped it and the pid may be reused.
        if self._exit.done():
            raise ProcessLookupError(self.pid)
        os.kill(self.pid, signum)

    def close(self) -> None:
        for transport in self._transports:
            transport.close()


class ForkServer:
    def __init__(self, loop: asyncio.AbstractEventLoop, import_path: Sequence[str]) -> None:
        self._loop = loop
        self._import_path = list(import_path)
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._next_id = 0
        # A reply carries the pid and the future of its exit, created when the reply is read: the
        # exit of a short run can be read in the same pass, before `spawn` resumes.
        self._replies: dict[int, asyncio.Future[tuple[int, asyncio.Future[int]]]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}

    def _start(self, env: Mapping[str, str]) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = json.dumps({"path": self._import_path, "server_pid": os.getpid(), "fd": theirs.fileno()})
        try:
            # -S and the import path as for the launcher (isolation.py).
            self._process = subprocess.Popen(
                [sys.executable, "-E", "-s", "-S", "-B", str(ZYGOTE), config],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None,  # its own failures reach the server's log
                pass_fds=(theirs.fileno(),),
                env=dict(env),
                cwd="/",
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            raise ForkServerUnavailable(f"cannot start the fork server: {exc}") from None
        finally:
            theirs.close()
        ours.setblocking(False)
        self._loop.add_reader(ours.fileno(), self._on_readable)
        self._sock = ours
        return ours

    async def spawn(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ForkedLauncher:
        """`argv`: the launcher's arguments (config json, script, args)."""
        sock = self._sock or self._start(env)
        self._next_id += 1
        request_id = self._next_id
        reply: asyncio.Future[tuple[int, asyncio.Future[int]]] = self._loop.create_future()
        self._replies[request_id] = reply
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        stdin = os.open(os.devnull, os.O_RDONLY)
        message = json.dumps({"id": request_id, "argv": list(argv), "cwd": str(cwd), "env": dict(env)})
        try:
            sock.sendmsg([message.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                               _ints([stdin, stdout_w, stderr_w]))])  # fmt: skip
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                pid, exit_status = await reply
        except (OSError, TimeoutError) as exc:
            for fd in (stdout_r, stderr_r):
                os.close(fd)
            self._broken(f"fork server failed: {exc!r}")
            raise ForkServerUnavailable(str(exc)) from None
        finally:
            self._replies.pop(request_id, None)
            for fd in (stdin, stdout_w, stderr_w):
                os.close(fd)
        stdout, out_transport = await self._reader(stdout_r)
        stderr, err_transport = await self._reader(stderr_r)
        return ForkedLauncher(pid, exit_status, stdout, stderr, [out_transport, err_transport])

    async def _reader(self, fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
        reader = asyncio.StreamReader(limit=2**16, loop=self._loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=self._loop)
        transport, _ = await self._loop.connect_read_pipe(lambda: protocol, os.fdopen(fd, "rb", 0))
        return reader, transport

    def _on_readable(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError as exc:
                self._broken(f"fork server connection failed: {exc}")
                return
            if not data:
                self._broken("the fork server exited")
                return
            self._dispatch(json.loads(data))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            reply = self._replies.get(message["id"])
            if reply is None or reply.done():
                if "pid" in message:  # forked after spawn gave up waiting: nobody would supervise it
                    with contextlib.suppress(OSError):
                        os.killpg(message["pid"], signal.SIGKILL)
                return
            if "pid" in message:
                exit_status: asyncio.Future[int] = self._loop.create_future()
                self._exits[message["pid"]] = exit_status
                reply.set_result((message["pid"], exit_status))
            else:
                reply.set_exception(ForkServerUnavailable(str(message.get("error"))))
        elif "pid" in message:
            done = self._exits.pop(message["pid"], None)
            if done is not None and not done.done():
                done.set_result(message["status"])

    def _broken(self, reason: str) -> None:
        """Forget this zygote; its launchers died with it (parent-death signal)."""
        log.warning("tool runner: %s; it is restarted on the next run", reason)
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            for reply in self._replies.values():
                if not reply.done():
                    reply.set_exception(ForkServerUnavailable("the fork server exited"))
            for exit_status in self._exits.values():
                if not exit_status.done():
                    exit_status.set_result(int(signal.SIGKILL))  # a raw wait status: killed by SIGKILL
        self._replies.clear()
        self._exits.clear()
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()
            with contextlib.suppress(Exception):
                self._process.wait(timeout=5)
            self._process = None


def _ints(fds: list[int]) -> bytes:
    import array

    return array.array("i", fds).tobytes()


# One per event loop. A server holds its loop, so the registry holds them strongly: a loop that
# ended without close_for_loop (tests, scripts) has its server closed when the next one starts,
# and whatever is left at interpreter exit is closed then.
_servers: dict[asyncio.AbstractEventLoop, ForkServer] = {}


def for_loop(import_path: Sequence[str]) -> ForkServer:
    loop = asyncio.get_running_loop()
    server = _servers.get(loop)
    if server is None:
        for old_loop in [old for old in _servers if old.is_closed()]:
            _servers.pop(old_loop).close()
        server = _servers[loop] = ForkServer(loop, import_path)
    return server


@atexit.register
def _close_all() -> None:
    while _servers:
        _servers.popitem()[1].close()


def close_for_loop() -> None:
    """At shutdown: stop this loop's fork server (its runs are over by then)."""
    server = _servers.pop(asyncio.get_running_loop(), None)
    if server is not None:
        server.close()
