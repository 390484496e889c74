"""Side effects once per step, however often the step starts.

A step may start twice: its worker dies or loses its lease, and another worker runs the step again
from the beginning. The server tells every run of a tool step which step it is:
``TALKATIVE_IDEMPOTENCY_KEY`` is the same in every attempt of that step and different in every
other step (of this run or another), ``TALKATIVE_ATTEMPT`` counts the attempts (1, 2, ...).

`once(key)` guards one effect of the step::

    from talkative.skills.report import once

    with once(f"invoice-{invoice_id}") as todo:
        if todo:
            send(invoice_id)

`todo` is False when an earlier attempt of this step already completed the block for `key`. The
block counts as completed only when it ends without an exception; then a small record is written
(fsync, rename) under ``outputs/.talkative/once/`` in the workspace, named by a hash of the step's
key and `key`. A second attempt running at the same time waits on the record's lock until the first
one's block ends (or its process dies), so the two never both run it. A step of another run, or
another step of this run, does the effect again.

What once cannot cover: a process killed after the effect and before the record is written (one
fsync) does the effect again in the next attempt. An effect on another service closes that gap with
the service's own deduplication: send it `idempotency_key(key)`, the same in every attempt.

Run by hand (no ``TALKATIVE_IDEMPOTENCY_KEY``), each run counts as a step of its own: the block
always runs and nothing is recorded. Set the variable yourself to try a second attempt.

Records older than RETENTION_S are removed (at most once a day, by a run that writes one): a step
resumed after that long does its effects again. Stdlib-only and import-light, like report.py.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: every skill run imports this module
if TYPE_CHECKING:
    from types import TracebackType

KEY_VARIABLE = "TALKATIVE_IDEMPOTENCY_KEY"
ATTEMPT_VARIABLE = "TALKATIVE_ATTEMPT"
# Under outputs/ because a sandboxed run may write only there and in inputs/; the tool runner
# leaves `outputs/.talkative/` out of a run's artifacts (tools/outcome.py).
STATE_DIR = os.path.join("outputs", ".talkative", "once")
PRUNE_STAMP = ".pruned"
RETENTION_S = 30 * 24 * 3600
PRUNE_EVERY_S = 24 * 3600
MAX_LABEL_CHARS = 200  # of `key`, kept in the record for whoever reads it; the name is a hash

_held: set[str] = set()  # records this process holds: a nested once(key) would wait on itself


def step_key() -> str | None:
    """The step's key as the server gave it, or None when run by hand."""
    return os.environ.get(KEY_VARIABLE) or None


def attempt() -> int:
    """Which attempt of the step this run is: 1 the first time (and when run by hand)."""
    try:
        return max(1, int(os.environ.get(ATTEMPT_VARIABLE, "1")))
    except ValueError:
        return 1


def idempotency_key(key: str) -> str | None:
    """A key for another service's own deduplication of effect `key` (an ``Idempotency-Key``
    header, say): the same in every attempt of this step, different for any other step or key.
    None when run by hand."""
    step = step_key()
    return None if step is None else _digest(step, _checked(key))


def _checked(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"once() needs a non-empty string key, not {key!r}")
    return key


def _digest(step: str, key: str) -> str:
    import hashlib  # only runs that use once pay for it (OpenSSL's start-up)

    data = f"{step}\0{key}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:40]


def once(key: str) -> Once:
    """Guards the block that does effect `key` (see the module docstring): ``with once(key) as todo``."""
    return Once(key)


class Once:
    """Enters as True when the block still has to run for this step and `key`, else False."""

    def __init__(self, key: str) -> None:
        self.key = _checked(key)
        self._path: str | None = None
        self._fd: int | None = None
        self._todo = True

    def __enter__(self) -> bool:
        step = step_key()
        if step is None:
            return True
        folder = os.path.join(os.getcwd(), STATE_DIR)
        path = os.path.join(folder, _digest(step, self.key))
        if path in _held:
            raise RuntimeError(f"once({self.key!r}) is already open in this run")
        os.makedirs(folder, exist_ok=True)
        self._fd = _lock(path)
        self._path = path
        _held.add(path)
        # A record is only ever put in place whole (rename), so any content means done.
        self._todo = os.fstat(self._fd).st_size == 0
        return self._todo

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        path, fd = self._path, self._fd
        if path is None or fd is None:
            return
        self._path = self._fd = None
        try:
            if self._todo and kind is None:
                try:
                    _record(path, self.key)
                except OSError as exc:  # a full disk, say: the run must not claim it is recorded
                    raise OSError(exc.errno, f"once({self.key!r}) was done but not recorded: {exc}") from exc
            elif self._todo:  # not done: the empty lock file goes, the next attempt runs it
                try:  # noqa: SIM105 - contextlib is one import more per run
                    os.unlink(path)
                except OSError:
                    pass
        finally:
            os.close(fd)  # releases the lock: a waiting attempt now finds the record, or none
            _held.discard(path)
        if self._todo and kind is None:
            _prune(os.path.dirname(path), time.time())


def _lock(path: str) -> int:
    """An exclusive lock on the file at `path` (created empty if missing), held by the returned fd.

    The holder may replace the file (the record) or remove it; a waiter that then gets the lock of
    the old file sees that and locks the one now at `path`."""
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            os.close(fd)
            continue
        except BaseException:
            os.close(fd)
            raise
        held = os.fstat(fd)
        if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)


def _record(path: str, key: str) -> None:
    record = {
        "key": key[:MAX_LABEL_CHARS],
        "step": step_key(),
        "attempt": attempt(),
        "doneAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_atomic(path, json.dumps(record) + "\n", durable=True)


def write_atomic(path: str, text: str, *, durable: bool = False) -> None:
    """Writes `text` to `path` so that a reader sees the old file or the new one, never half of
    one (write a temporary file, sync it, rename it over). `durable`: the rename itself survives
    a crash of the machine (the folder is synced too). The one atomic write of the skill helpers
    (report.py's envelopes use it as well)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    # Unique per write, not per pid: every sandboxed run is PID 1 of its own namespace, and
    # concurrent runs of one skill share the workspace.
    temp = f"{path}.{os.urandom(8).hex()}.tmp"
    try:
        with open(temp, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    if durable:
        folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _prune(folder: str, now: float) -> None:
    """Removes records older than RETENTION_S, at most once every PRUNE_EVERY_S per workspace."""
    stamp = os.path.join(folder, PRUNE_STAMP)
    try:
        if now - os.stat(stamp).st_mtime < PRUNE_EVERY_S:
            return
    except FileNotFoundError:
        pass
    try:
        with open(stamp, "a"):
            pass
        os.utime(stamp)
        with os.scandir(folder) as entries:
            old = [
                entry.path
                for entry in entries
                if entry.name != PRUNE_STAMP
                and entry.is_file(follow_symlinks=False)
                and now - entry.stat(follow_symlinks=False).st_mtime > RETENTION_S
            ]
    except OSError:  # a full workspace, say: the records stay until a later run
        return
    for path in old:
        try:
            os.unlink(path)
        except OSError:
            continue
