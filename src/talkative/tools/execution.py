"""Runs a validated command through the launcher and supervises it (time, cancel, processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from talkative.tools import cage as cages
from talkative.tools import forkserver, isolation, preparation
from talkative.tools.capture import StreamCapture
from talkative.tools.egress import EgressPolicy, EgressProxy
from talkative.tools.launcher import list_processes
from talkative.tools.policy import PreparedCommand
from talkative.tools.schemas import SandboxPolicy, SandboxReport, StepIdentity, ToolErrorCode, ToolLimits

LAUNCHER = isolation.LAUNCHER
STOP_GRACE_S = 2.0  # for the launcher to kill and reap the tree before we kill it too
PIPE_GRACE_S = 1.0  # for EOF once the tree is dead (a process that escaped could hold a pipe)
WATCHDOG_INTERVAL_S = 0.05


@dataclass
class Execution:
    returncode: int | None
    stdout: StreamCapture
    stderr: StreamCapture
    stopped: ToolErrorCode | None = None  # TIMEOUT, CANCELLED, PROCESS_LIMIT or WRITE_QUOTA
    process_limit_hit: bool = False
    spawn_error: str | None = None
    isolated: bool = False  # the launcher runs the script confined or not at all
    sandbox: SandboxReport | None = None
    egress_refused: list[str] = field(default_factory=list)  # what the egress proxy denied the run


# Read by the skill helper (talkative.skills.once, which the tools package must not import).
IDEMPOTENCY_KEY_VARIABLE = "TALKATIVE_IDEMPOTENCY_KEY"
ATTEMPT_VARIABLE = "TALKATIVE_ATTEMPT"


def child_env(workspace: Path, step: StepIdentity | None = None) -> dict[str, str]:
    """An allow-list, never a copy of the server's environment (it holds the secrets)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workspace),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "TALKATIVE_WORKSPACE": str(workspace),
    }
    if step is not None:
        env[IDEMPOTENCY_KEY_VARIABLE] = step.idempotency_key
        env[ATTEMPT_VARIABLE] = str(step.attempt)
    return env


class LauncherProcess(Protocol):
    """What supervising a launcher needs: an asyncio subprocess, or one the fork server forked."""

    @property
    def pid(self) -> int: ...

    @property
    def stdout(self) -> asyncio.StreamReader | None: ...

    @property
    def stderr(self) -> asyncio.StreamReader | None: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    def send_signal(self, signum: int) -> None: ...


async def _spawn(
    command: PreparedCommand, config: dict[str, Any], fork_server: bool, step: StepIdentity | None
) -> tuple[LauncherProcess, Callable[[], None]]:
    """The launcher for `command`: forked by the warm fork server when possible (zygote.py), else a
    new interpreter. Returns it with what to call once it has been waited for."""
    env = child_env(command.workspace, step)
    if fork_server:
        try:
            server = forkserver.for_loop(isolation.IMPORT_PATH)
            argv = [json.dumps(config), str(command.script), *command.args]
            forked = await server.spawn(argv, cwd=command.workspace, env=env)
            return forked, forked.close
        except forkserver.ForkServerUnavailable:
            pass
    proc = await asyncio.create_subprocess_exec(
        *isolation.launcher_command(config, command.script, command.args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=command.workspace,
        env=env,
        start_new_session=True,  # one session per run: the unit we count and kill
    )
    return proc, lambda: None


async def execute(
    command: PreparedCommand,
    limits: ToolLimits,
    cancel: asyncio.Event | None,
    hidden_paths: Sequence[Path] = (),
    *,
    fork_server: bool = True,
    sandbox: SandboxPolicy | None = None,
    layers: Sequence[str] = (),
    egress: EgressPolicy | None = None,
    write_watch: Callable[[], Coroutine[Any, Any, None]] | None = None,
    step: StepIdentity | None = None,
) -> Execution:
    """Run `command`; confined with `layers` (those that work here: service.py decides) when
    `hidden_paths` are given. `egress`: the destinations this run may reach through the egress
    proxy (a sandboxed run only; without it, or unconfined, no proxy is started).
    `write_watch` returns once the run has written more than it may (see quota.py): it is then
    stopped with WRITE_QUOTA. `step`: the run step it carries out, told to the skill."""
    isolate = None
    proxy = None
    if hidden_paths and layers:
        policy = sandbox or SandboxPolicy()
        isolate = isolation.isolate_config(command.workspace, hidden_paths, policy, layers)
        await asyncio.to_thread(
            preparation.prepare_workspace, command.workspace, command.script, uid=policy.uid, gid=policy.gid
        )
        if egress is not None and egress.destinations:
            proxy = EgressProxy(egress, label=str(command.script))
            await proxy.start(owner_uid=policy.uid if os.geteuid() == 0 else None)
            isolate["egress"] = str(proxy.socket_dir)
    try:
        run = await _execute(command, limits, cancel, isolate, layers, fork_server, write_watch, step)
    finally:
        if proxy is not None:
            await proxy.close()
    if proxy is not None:
        run.egress_refused = proxy.refused
    return run


async def _execute(
    command: PreparedCommand,
    limits: ToolLimits,
    cancel: asyncio.Event | None,
    isolate: dict[str, Any] | None,
    layers: Sequence[str],
    fork_server: bool,
    write_watch: Callable[[], Coroutine[Any, Any, None]] | None,
    step: StepIdentity | None,
) -> Execution:
    stdout = StreamCapture(limits.output_cap_bytes, keep_tail=True)
    stderr = StreamCapture(limits.output_cap_bytes)
    cage = cages.open_cage(limits.max_processes)
    config = isolation.launcher_config(limits, cage.path if cage else None, isolate)
    try:
        proc, done = await _spawn(command, config, fork_server, step)
    except BaseException as exc:
        # Also when cancelled mid-spawn (a run stopped at shutdown): a launcher the fork server
        # forked meanwhile is in the cage, and removing the cage kills it.
        if cage:
            await asyncio.shield(asyncio.to_thread(cage.remove))
        if isinstance(exc, OSError):
            return Execution(None, stdout, stderr, spawn_error=str(exc))
        raise
    try:
        run = await _supervise(proc, limits, cancel, cage, stdout, stderr, write_watch)
        hits = cage.limit_hits() if cage else 0
        run.process_limit_hit = run.stopped is ToolErrorCode.PROCESS_LIMIT or hits > 0
        run.isolated = isolate is not None and tuple(layers) == isolation.LAYERS
        return run
    finally:
        if proc.returncode is None:  # we were cancelled ourselves: the run must still stop
            await asyncio.shield(_stop(proc, cage))
        done()
        if cage:
            await asyncio.to_thread(cage.remove)


async def _supervise(
    proc: LauncherProcess,
    limits: ToolLimits,
    cancel: asyncio.Event | None,
    cage: cages.ProcessCage | None,
    stdout: StreamCapture,
    stderr: StreamCapture,
    write_watch: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> Execution:
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        asyncio.create_task(stdout.drain(proc.stdout)),
        asyncio.create_task(stderr.drain(proc.stderr)),
    ]
    waiter = asyncio.create_task(proc.wait())
    stops: dict[asyncio.Task[object], ToolErrorCode] = {}
    if cancel is not None:
        stops[asyncio.create_task(cancel.wait())] = ToolErrorCode.CANCELLED
    if cage is None:
        task = asyncio.create_task(_watch_session(proc.pid, limits.max_processes))
        stops[task] = ToolErrorCode.PROCESS_LIMIT
    if write_watch is not None:
        stops[asyncio.create_task(write_watch())] = ToolErrorCode.WRITE_QUOTA
    try:
        done, _ = await asyncio.wait(
            {waiter, *stops}, timeout=limits.timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        stopped = None
        if waiter not in done:
            stopped = next((stops[task] for task in done if task in stops), ToolErrorCode.TIMEOUT)
            await _stop(proc, cage)
        returncode = await waiter
        # The launcher has reaped the whole tree, so both pipes are at EOF or about to be.
        await asyncio.wait(readers, timeout=PIPE_GRACE_S)
    finally:
        tasks: list[asyncio.Task[Any]] = [*readers, waiter, *stops]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return Execution(returncode, stdout, stderr, stopped=stopped)


async def _watch_session(session: int, limit: int) -> None:
    """Returns once the run's session holds more than `limit` processes."""
    while True:
        if await asyncio.to_thread(cages.session_size, session) > limit:
            return
        await asyncio.sleep(WATCHDOG_INTERVAL_S)


async def _stop(proc: LauncherProcess, cage: cages.ProcessCage | None) -> None:
    """Ask the launcher to kill and reap the tree; kill everything ourselves if it does not."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_GRACE_S)
    except TimeoutError:
        _kill_session(proc.pid, cage)
        await proc.wait()


def _kill_session(session: int, cage: cages.ProcessCage | None) -> None:
    """Last resort when the launcher does not stop: SIGKILL everything in the run's session.

    Only called while the launcher is unreaped or its session still has members, so the kernel
    cannot have handed its pid (our session id) to an unrelated process.
    """
    with contextlib.suppress(OSError):
        os.killpg(session, signal.SIGKILL)
    for pid, _ppid, _pgrp, sid, _threads in list_processes():
        if sid == session:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    if cage:
        cage.kill_all()
