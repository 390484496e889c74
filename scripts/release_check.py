"""`make release-check`: the runbook's pre-release checklist (docs/runbook.md, "Before a release")
as one command, ending with a summary table; exit code 1 when any step fails.

Steps, in order (each can be left out with `--skip NAME`; the default runs them all):

    clean-tree  `git status --porcelain` lists nothing: what is released is committed
    tests       `make test`
    e2e         the end-to-end subset: `pytest -m e2e` (real server processes)
    build       the web UI (`make frontend`) and the sdist and wheel (`python -m build`)
    migrations  on a COPY of the data dir (`--data DIR`, else a fresh one seeded through the API of
                a real server): `talkative migrate` to head, back to the revision it had (or head's
                parent when it was at head), and to head again
    check       `talkative check` on that copy

`--json-out FILE` writes the summary as JSON (`talkative release-notes --validation FILE` reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STEPS = ("clean-tree", "tests", "e2e", "build", "migrations", "check")
ENV_PREFIXES = ("TALKATIVE_", "AUTH_", "OPENAI_")


class StepFailed(Exception):
    """A step's failure, said in one line."""


@dataclass
class Result:
    name: str
    result: str  # pass, FAIL or skipped
    duration_s: float
    detail: str = ""


@dataclass
class Context:
    repo: Path
    data: Path | None
    work: Path
    check_command: list[str]
    copy: Path | None = None


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(extra)
    return env


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, log: Path | None = None) -> str:
    """Run a command, its output going to `log` (and kept for the error); raise on failure."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if log is not None:
        log.write_text(output)
    if done.returncode != 0:
        tail = [line for line in output.splitlines() if line.strip()][-3:]
        where = f" (output: {log})" if log is not None else ""
        raise StepFailed(f"`{' '.join(cmd)}` exited {done.returncode}{where}: " + " | ".join(tail))
    return output


def step_clean_tree(ctx: Context) -> str:
    status = run(["git", "status", "--porcelain"], cwd=ctx.repo).splitlines()
    if status:
        shown = ", ".join(line[3:] for line in status[:5]) + (" ..." if len(status) > 5 else "")
        raise StepFailed(f"{len(status)} uncommitted changes: {shown}")
    return "nothing uncommitted"


def step_tests(ctx: Context) -> str:
    run(["make", "test"], cwd=ctx.repo, log=ctx.work / "make-test.log")
    return f"make test passed (output: {ctx.work / 'make-test.log'})"


def step_e2e(ctx: Context) -> str:
    log = ctx.work / "e2e.log"
    run([str(BIN / "pytest"), "-m", "e2e", "-p", "no:cacheprovider", "--no-cov", "-q"], cwd=ctx.repo, log=log)
    return f"pytest -m e2e passed (output: {log})"


def step_build(ctx: Context) -> str:
    run(["make", "frontend"], cwd=ctx.repo, log=ctx.work / "frontend.log")
    dist = ctx.work / "dist"
    run([str(BIN / "python"), "-m", "build", "--outdir", str(dist)], cwd=ctx.repo, log=ctx.work / "build.log")
    built = sorted(p.name for p in dist.iterdir())
    return "built " + ", ".join(built)


def step_migrations(ctx: Context) -> str:
    copy = ctx.work / "data"
    if ctx.data is not None:
        if not (ctx.data / "talkative.db").is_file():
            raise StepFailed(
                f"{ctx.data} holds no talkative.db (a PostgreSQL deployment: restore its backup into a "
                "scratch data dir first)"
            )
        shutil.copytree(ctx.data, copy, ignore=shutil.ignore_patterns("talkative.pid", "__pycache__"))
        origin = f"a copy of {ctx.data}"
    else:
        seed_data_dir(copy)
        origin = "a fresh data dir seeded through the API"
    ctx.copy = copy
    talkative = [str(BIN / "talkative"), "migrate"]
    env = clean_env(TALKATIVE_DATA_DIR=str(copy))
    before = current_revision(copy)
    run([*talkative, "head"], cwd=ctx.work, env=env)
    head = current_revision(copy)
    back_to = before if before not in (None, head) else parent_of(head)
    run([*talkative, back_to or "base"], cwd=ctx.work, env=env)
    if current_revision(copy) != back_to:
        raise StepFailed(f"rolling back to {back_to} left the database at {current_revision(copy)}")
    run([*talkative, "head"], cwd=ctx.work, env=env)
    return f"{origin}: {before or 'empty'} -> {head} -> {back_to or 'base'} -> {head}"


def step_check(ctx: Context) -> str:
    if ctx.copy is None:
        raise StepFailed("no data dir copy to check (the migrations step did not run)")
    log = ctx.work / "check.log"
    try:
        run(ctx.check_command, cwd=ctx.work, env=clean_env(TALKATIVE_DATA_DIR=str(ctx.copy)), log=log)
    except FileNotFoundError as exc:
        raise StepFailed(f"cannot run {ctx.check_command[0]}: {exc.strerror}") from None
    except StepFailed:
        if "No such command" in log.read_text():
            raise StepFailed(f"`{' '.join(ctx.check_command)}`: this build has no such command") from None
        raise
    return f"no findings on the copy (output: {log})"


def current_revision(data_dir: Path) -> str | None:
    from talkative import migrations

    db = data_dir / "talkative.db"
    return migrations.current_revision_sync(f"sqlite+aiosqlite:///{db}") if db.is_file() else None


def parent_of(revision: str | None) -> str | None:
    from talkative import migrations

    sources = {p.name: p.read_text() for p in migrations.VERSIONS_DIR.glob("*.py")}
    return migrations.revisions_of(sources).get(revision) if revision else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_data_dir(data_dir: Path) -> None:
    """A data dir written the way a deployment writes one: a real server, an agent, the critical
    loop (message -> workflow patch -> events)."""
    import secrets

    secret = secrets.token_urlsafe(48)
    port = free_port()
    data_dir.mkdir(parents=True)
    env = clean_env(
        TALKATIVE_DATA_DIR=str(data_dir),
        TALKATIVE_PORT=str(port),
        AUTH_JWT_SECRET=secret,
        TALKATIVE_LOG_FORMAT="json",
    )
    log_path = data_dir.parent / "seed-server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(BIN / "talkative"), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(server, url, log_path)
        token = subprocess.run(
            [str(BIN / "talkative"), "token", "--role", "operator", "--tenant", "release-check"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for response in (
                http.post("/agents", json={"id": "release-check", "name": "Release check"}),
                http.post("/agents/release-check/start"),
                http.post("/agents/release-check/message", json={"message": "triage inbox then report"}),
            ):
                if response.status_code >= 300:
                    raise StepFailed(f"seeding: {response.request.url.path} answered {response.status_code}")
            events = http.get("/agents/release-check/events", params={"tail": 20}).json()["events"]
            if not any(e["type"] == "WORKFLOW_PATCH_APPLIED" for e in events):
                raise StepFailed("seeding: the message produced no workflow patch")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wait_healthy(server: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise StepFailed(f"the seeding server exited early (output: {log_path})")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise StepFailed(f"the seeding server did not become healthy in 60 s (output: {log_path})")


RUNNERS: dict[str, Callable[[Context], str]] = {
    "clean-tree": step_clean_tree,
    "tests": step_tests,
    "e2e": step_e2e,
    "build": step_build,
    "migrations": step_migrations,
    "check": step_check,
}


def table(results: list[Result]) -> str:
    rows = [("step", "result", "duration", "detail")] + [
        (r.name, r.result, f"{r.duration_s:.1f} s", r.detail) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ------")
    failed = [r.name for r in results if r.result == "FAIL"]
    lines.append("")
    lines.append(f"release check: FAILED ({', '.join(failed)})" if failed else "release check: passed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="data dir to copy (default: a fresh one, seeded)")
    parser.add_argument("--skip", action="append", default=[], choices=STEPS, help="leave a step out")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout to check (default: this one)")
    parser.add_argument(
        "--check-command",
        default=f"{BIN / 'talkative'} check",
        help="the integrity check run on the copy (default: talkative check)",
    )
    parser.add_argument("--json-out", type=Path, help="also write the summary as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (copy, logs, build)")
    args = parser.parse_args(argv)
    if args.data is not None and not args.data.is_dir():
        parser.error(f"--data {args.data}: no such directory")

    work = Path(tempfile.mkdtemp(prefix="talkative-release-check-"))
    ctx = Context(
        repo=args.repo.resolve(),
        data=args.data.resolve() if args.data else None,
        work=work,
        check_command=shlex.split(args.check_command),
    )
    results: list[Result] = []
    try:
        for name in STEPS:
            if name in args.skip:
                results.append(Result(name, "skipped", 0.0, "--skip"))
                continue
            print(f"release check: {name} ...", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                detail, outcome = RUNNERS[name](ctx), "pass"
            except StepFailed as exc:
                detail, outcome = str(exc), "FAIL"
            except Exception as exc:  # an unexpected error fails its step, and the table still shows
                detail, outcome = f"{type(exc).__name__}: {exc}", "FAIL"
            results.append(Result(name, outcome, time.monotonic() - started, detail))
    finally:
        ok = all(r.result != "FAIL" for r in results) and len(results) == len(STEPS)
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(results))
    if not ok or args.keep:
        print(f"work dir kept (logs, data dir copy, build): {work}")
    if args.json_out is not None:
        args.json_out.write_text(
            json.dumps({"ok": ok, "steps": [asdict(r) for r in results]}, indent=2) + "\n"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
