"""Local processes the bench starts: a fresh Talkative server, the limit app; and their memory."""

from __future__ import annotations

import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# Variables the server reads; the parent's are dropped so the bench server is configured only here.
SERVER_ENV_PREFIXES = ("TALKATIVE_", "AUTH_", "OPENAI_")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_fd_limit(want: int = 65536) -> int:
    """1,000 SSE streams need more than the usual 1,024 descriptors, in the client and the server."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Process:
    """A child HTTP server in its own session, healthy once GET /health answers 200."""

    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> Process:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.argv} was not healthy within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_PREFIXES)}
    env.update(extra)
    return env


def talkative_server(
    data_dir: Path, *, secret: str | None = None, env: dict[str, str] | None = None
) -> Process:
    """`talkative serve` on a free port and a fresh data dir, as tests/e2e/server.py starts it."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    server_env = _clean_env(
        TALKATIVE_DATA_DIR=str(data_dir),
        TALKATIVE_PORT=str(port),
        TALKATIVE_LOG_FORMAT="json",
        AUTH_JWT_SECRET=secret or secrets.token_urlsafe(48),
        **(env or {}),
    )
    argv = [sys.executable, "-m", "talkative", "serve"]
    return Process(argv, server_env, data_dir.parent / f"talkative-{port}.log", port)


def limit_server(data_dir: Path) -> Process:
    port = free_port()
    argv = [sys.executable, "-m", "bench.limit_app", "--port", str(port), "--data-dir", str(data_dir)]
    return Process(argv, _clean_env(), data_dir.parent / f"limit-{port}.log", port)


def mint_admin_token(secret: str) -> str:
    """A platform-admin JWT for the local server (the same claims `talkative token --role admin` signs)."""
    from datetime import timedelta

    from talkative.auth.principal import Role
    from talkative.auth.tokens import mint_token

    return mint_token(secret=secret, sub="bench", role=Role.ADMIN, tenant_id=None, ttl=timedelta(hours=6))


# --- CPU -------------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int, *, reaped: bool = False) -> int:
    """utime + stime of `pid` (and with `reaped`, of its children that have exited), in ticks."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return 0
    fields = raw[raw.rfind(b")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks + (int(fields[13]) + int(fields[14]) if reaped else 0)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants, the exited ones included."""
    return (_cpu_ticks(pid, reaped=True) + sum(_cpu_ticks(p) for p in descendants(pid))) / _TICKS


def postgres_cpu_s(database: str) -> float:
    """CPU seconds used so far by the local PostgreSQL backends connected to `database` (what the
    server spends on other databases, other sessions' tests say, is left out; so is a backend
    that has already exited, and the server's shared writers)."""
    marker = f" {database} ".encode()
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                title = handle.read()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:  # "postgres: 15/main: USER DB HOST ..."
            total += _cpu_ticks(int(name))
    return total / _TICKS


# --- memory -----------------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _pss_kb(pid: int) -> int | None:
    """Proportional set size: each page shared with other processes counted by its share."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        ppid = int(raw[raw.rfind(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class RssSampler:
    """Samples the memory of a process and its descendants on a thread; reads VmHWM at the end.

    The tree's figure is the server's RSS plus its descendants' PSS: a tool process forked from
    the fork server shares most of its pages with it, and summing RSS would count those pages once
    per process (~12 MB more whenever a sample lands during a tool run). The plain RSS sum is
    kept beside it, for information.
    """

    pid: int
    interval_s: float = 0.5
    tree_every: int = 2  # scanning /proc for children costs ~1 ms of the client's GIL; do it less
    peak_server_kb: int = 0
    peak_tree_kb: int = 0
    peak_tree_rss_kb: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def sample(self, *, tree: bool = True) -> None:
        server = _status_kb(self.pid, "VmRSS") or 0
        self.peak_server_kb = max(self.peak_server_kb, server)
        if tree:
            children = descendants(self.pid)
            total = server + sum(_pss_kb(p) or 0 for p in children)
            self.peak_tree_kb = max(self.peak_tree_kb, total)
            total_rss = server + sum(_status_kb(p, "VmRSS") or 0 for p in children)
            self.peak_tree_rss_kb = max(self.peak_tree_rss_kb, total_rss)
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample(tree=self.samples % self.tree_every == 0)

    def current_mb(self) -> float:
        return round((_status_kb(self.pid, "VmRSS") or 0) / 1024, 1)

    def finish(self, target_mb: float = 150.0) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sample()
        children = descendants(self.pid)
        hwm_server = _status_kb(self.pid, "VmHWM") or 0
        hwm_children = sum(_status_kb(p, "VmHWM") or 0 for p in children)
        peak_kb = max(hwm_server + hwm_children, self.peak_tree_kb)
        return {
            "server_pid": self.pid,
            "vmhwm_server_mb": round(hwm_server / 1024, 1),
            "vmhwm_children_mb": round(hwm_children / 1024, 1),
            "children_alive_at_end": len(children),
            "peak_sampled_rss_server_mb": round(self.peak_server_kb / 1024, 1),
            "peak_sampled_tree_mb": round(self.peak_tree_kb / 1024, 1),  # server RSS + children PSS
            "peak_sampled_rss_tree_mb": round(self.peak_tree_rss_kb / 1024, 1),  # information only
            "current_rss_mb": round((_status_kb(self.pid, "VmRSS") or 0) / 1024, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "samples": self.samples,
            "sample_interval_s": self.interval_s,
            "target": f"peak RSS <= {target_mb:g} MB",
            "passed": peak_kb / 1024 <= target_mb,
        }
