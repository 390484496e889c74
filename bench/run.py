"""`make bench`: a fresh Talkative server on a temp data dir, every workload, results in bench/results.

    python -m bench.run [--quick] [--only loop,sse] [--out-dir DIR] [--keep-data]

The server is `talkative serve` started as tests/e2e/server.py starts it (its own env: data dir,
port, a random JWT secret); the driver gets a platform-admin token signed with that secret, the
SQLite file for the growth phases, and the server's pid for its memory.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from bench.driver import add_common_arguments, drive, run_loop_policy, write_and_print
from bench.procs import mint_admin_token, raise_fd_limit, talkative_server

# history grows one agent to 1M events: retention must keep them (the default keeps 100k per agent).
SERVER_ENV = {"TALKATIVE_EVENTS_KEEP_PER_AGENT": "1100000"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--keep-data", action="store_true", help="keep the temp data dir and server log")
    args = parser.parse_args(argv)
    raise_fd_limit()  # inherited by the server: 1,000 SSE streams
    workdir = Path(tempfile.mkdtemp(prefix="talkative-bench-"))
    secret = secrets.token_urlsafe(48)
    server = talkative_server(workdir / "data", secret=secret, env=SERVER_ENV)
    print(f"[bench] starting talkative serve in {workdir}", file=sys.stderr, flush=True)
    server.start()
    failed = False
    try:
        results = run_loop_policy(
            drive(
                base_url=server.url,
                token=mint_admin_token(secret),
                quick=args.quick,
                only=args.only,
                db_path=workdir / "data" / "talkative.db",
                limit_url=args.limit_url,
                server_pid=server.pid,
                pg_dsn=args.pg_dsn,
            )
        )
        results["server"] = {
            "started_by": "bench.run (talkative serve, fresh temp data dir, SQLite)",
            "env": SERVER_ENV,
            "exited_during_run": server.process is not None and server.process.poll() is not None,
        }
    except BaseException:
        failed = True
        raise
    finally:
        server.stop()
        if failed or args.keep_data:
            print(f"[bench] data and server log kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    write_and_print(results, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
