"""The report envelope every skill script writes: ``{ok, generatedAt, skillName, data, ...}``.

Imported by every skill run, so it stays stdlib-only and cheap to import. A script looks like::

    def main(argv: list[str]) -> SkillResult:
        args = SkillArgumentParser().parse_args(argv)
        return SkillResult(data={...}, metrics={...})

    if __name__ == "__main__":
        raise SystemExit(run_skill("my-skill", main))

`run_skill` owns ``--out`` (default ``outputs/<skill>.json``), turns `SkillError` and any
uncaught exception into an ``ok: false`` envelope, and returns the exit code (0 only when ok).

A step may start more than once; `once(key)` (see once.py) keeps its side effects to one::

    with once("send-invoice-42") as todo:
        if todo:
            send_invoice(42)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from talkative.skills.once import attempt as attempt
from talkative.skills.once import idempotency_key as idempotency_key
from talkative.skills.once import once as once
from talkative.skills.once import write_atomic

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

Report = dict[str, Any]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class SkillError(Exception):
    """An expected failure (bad input, missing file): its message goes into the envelope as is."""


class SkillUsageError(SkillError):
    """Bad command-line arguments (exit status 2, like argparse)."""


class SkillArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so bad arguments still produce a report."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # --out is consumed by run_skill before parsing; say so in --help all the same.
        kwargs.setdefault("epilog", "--out PATH  where to write the report (default outputs/<skill>.json)")
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise SkillUsageError(f"invalid arguments: {message}")


class SkillResult:
    """What a script's main returns: the report `data` and optional numeric `metrics`."""

    __slots__ = ("data", "metrics")

    def __init__(self, data: Any, metrics: Mapping[str, float] | None = None) -> None:
        self.data = data
        self.metrics = dict(metrics) if metrics is not None else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def resolve_in_workspace(path: str) -> str:
    """Absolute real path of `path` (relative to cwd = the workspace); SkillError if outside."""
    root = os.path.realpath(os.getcwd())
    full = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, full]) != root:
        raise SkillError(f"path {path!r} is outside the workspace")
    return full


def append_record(path: str, record: Mapping[str, Any]) -> None:
    """Appends `record` as one JSON line to `path` (in the workspace) and syncs it: a journal.

    An append is not idempotent: a step started twice would write the line twice, so guard it
    with `once` (see once.py)."""
    full = resolve_in_workspace(path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    line = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"
    data = memoryview(line.encode("utf-8"))
    fd = os.open(full, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _envelope(skill_name: str, data: Any, metrics: Mapping[str, float] | None, error: str | None) -> Report:
    envelope: Report = {
        "ok": error is None,
        "generatedAt": _now(),
        "skillName": skill_name,
        "data": data,
    }
    if metrics is not None:
        envelope["metrics"] = dict(metrics)
    if error is not None:
        envelope["error"] = error
    return envelope


def _dumps(envelope: Report, *, pretty: bool) -> str:
    # allow_nan=False: NaN/Infinity are not JSON and would break strict readers.
    if pretty:
        return json.dumps(envelope, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def emit_report(
    skill_name: str,
    *,
    data: Any,
    metrics: Mapping[str, float] | None = None,
    error: str | None = None,
    out: str | None = None,
) -> Report:
    """Build the envelope, write it to `out` (if given) and print it as the last stdout line.

    A report that cannot be serialised or written turns into an ``ok: false`` envelope, so the
    caller always gets exactly one line of valid JSON.
    """
    envelope = _envelope(skill_name, data, metrics, error)
    try:
        text = _dumps(envelope, pretty=True)
    except (TypeError, ValueError) as exc:
        envelope = _envelope(skill_name, None, None, f"report is not JSON-serialisable: {exc}")
        text = _dumps(envelope, pretty=True)
    if out is not None:
        try:
            write_atomic(resolve_in_workspace(out), text)  # a reader never sees half a report
        except (OSError, SkillError) as exc:
            problems = [envelope.get("error"), f"cannot write report to {out!r}: {exc}"]
            envelope["ok"] = False
            envelope["error"] = "; ".join(p for p in problems if p)
    sys.stdout.flush()  # anything the script printed must come before the envelope line
    print(_dumps(envelope, pretty=False))
    sys.stdout.flush()
    return envelope


def _split_out(argv: Sequence[str], default: str) -> tuple[str, list[str]]:
    """Take `--out PATH` / `--out=PATH` out of argv (the last one wins)."""
    out, rest = default, []
    args = iter(argv)
    for arg in args:
        if arg == "--out":
            out = next(args, out)
        elif arg.startswith("--out="):
            out = arg.removeprefix("--out=")
        else:
            rest.append(arg)
    return out, rest


def run_skill(
    skill_name: str,
    main: Callable[[list[str]], SkillResult],
    argv: Sequence[str] | None = None,
) -> int:
    """Run `main`, emit exactly one envelope (none for --help) and return the exit code."""
    out, rest = _split_out(sys.argv[1:] if argv is None else argv, f"outputs/{skill_name}.json")
    try:
        result = main(rest)
    except SkillError as exc:
        emit_report(skill_name, data=None, error=str(exc), out=out)
        return EXIT_USAGE if isinstance(exc, SkillUsageError) else EXIT_FAILED
    except SystemExit as exc:
        if exc.code in (None, 0):  # e.g. --help
            return EXIT_OK
        emit_report(skill_name, data=None, error=f"exited with status {exc.code}", out=out)
        return EXIT_FAILED
    except Exception as exc:
        import traceback  # only paid for on the failure path

        traceback.print_exc(file=sys.stderr)
        emit_report(skill_name, data=None, error=f"{type(exc).__name__}: {exc}", out=out)
        return EXIT_FAILED
    envelope = emit_report(skill_name, data=result.data, metrics=result.metrics, out=out)
    return EXIT_OK if envelope["ok"] else EXIT_FAILED
