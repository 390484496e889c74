"""The `talkative` command: serve, worker, migrate, check, token, smoke, backup, restore,
import-legacy, release-notes."""

from __future__ import annotations

import atexit
import gc
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from talkative.auth.principal import Role
from talkative.auth.secrets import AuthConfig, ConfigError, resolve_auth
from talkative.auth.tokens import mint_token
from talkative.observability.logging import configure_logging
from talkative.settings import Settings, get_settings

if TYPE_CHECKING:
    from talkative.roles import Roles

app = typer.Typer(
    help="Talkative: a control plane for small business-workflow agents.",
    no_args_is_help=True,
    add_completion=False,
)

_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(text: str) -> timedelta:
    match = _TTL.match(text.strip())
    if not match:
        raise typer.BadParameter("use a number and a unit: 30m, 12h, 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def login_link(settings: Settings, auth: AuthConfig) -> str:
    token = mint_token(
        secret=auth.secret,
        sub="admin",
        role=Role.ADMIN,
        tenant_id=None,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )
    # The token travels in the fragment, which browsers never send to the server or its logs.
    return f"{settings.base_url}/#token={token}"


def _remove_pid_file_then_die(
    pid_path: Path, remove: Callable[[Path], None]
) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, _: FrameType | None) -> None:
        remove(pid_path)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    return handler


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TALKATIVE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TALKATIVE_PORT)")] = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Also run the run worker (--no-worker: API only)")
    ] = True,
) -> None:
    """Run the HTTP server, and the run worker unless --no-worker (migrations are applied at start)."""
    from talkative import server
    from talkative.main import create_app
    from talkative.ops.pidfile import remove_pid_file, write_pid_file

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = get_settings().model_copy(update=overrides)
    configure_logging(settings.log_level, settings.log_format)
    try:
        application = create_app(settings, worker=worker)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    _migrate_in_child(settings.resolved_database_url)
    _admit(settings, application.state.auth, application.state.roles)
    auth: AuthConfig = application.state.auth
    if auth.source in ("generated", "file"):
        print(
            f"\n  Talkative is starting on {settings.base_url}\n"
            f"  Sign in as admin: {login_link(settings, auth)}\n",
            flush=True,
        )
    _settle_heap()
    # `talkative restore` reads this to refuse overwriting a running server's data.
    pid_path = write_pid_file(settings.data_dir)
    atexit.register(remove_pid_file, pid_path)
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default action the process
    # would die before `finally` or atexit run, so remove the pid file first, then die of it.
    signal.signal(signal.SIGTERM, _remove_pid_file_then_die(pid_path, remove_pid_file))
    try:
        server.serve(application, host=settings.host, port=settings.port, timeout_graceful_shutdown=10)
    finally:
        remove_pid_file(pid_path)


@app.command("worker")
def worker_command() -> None:
    """Run the run worker, and the heartbeat scheduler and event retention when this process is
    elected to; no HTTP. Stops cleanly on SIGTERM or SIGINT."""
    import asyncio

    from talkative import roles
    from talkative.ops.pidfile import remove_pid_file, write_pid_file

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        auth = resolve_auth(settings)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    _migrate_in_child(settings.resolved_database_url)
    if settings.worker_metrics_port is not None:
        from prometheus_client import start_http_server

        from talkative.observability.metrics import REGISTRY

        start_http_server(settings.worker_metrics_port, addr=settings.host, registry=REGISTRY)
    pid_path = write_pid_file(settings.data_dir)  # `talkative restore` refuses a data dir in use
    try:
        asyncio.run(roles.work_until_signalled(settings, auth))
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    finally:
        remove_pid_file(pid_path)


def _admit(settings: Settings, auth: AuthConfig, process_roles: Roles) -> None:
    """Refuses, before serving, a process its cluster would not admit (the lifespan admits it)."""
    import asyncio

    from talkative import roles

    try:
        asyncio.run(roles.admit(settings, auth, process_roles))
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _migrate_in_child(url: str) -> None:
    """Pending migrations, applied by a short-lived child (see talkative.migrations)."""
    done = subprocess.run(
        [sys.executable, "-m", "talkative.migrations"], input=url, text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise _fail(f"database migration failed:\n{done.stderr.strip()[-4000:]}")


GC_GEN0_THRESHOLD = 7000  # Python's default is 700


def _settle_heap() -> None:
    """Before serving: what start-up built (modules, the app) lives as long as the process, so it
    leaves the collector's view (`gc.freeze`), and full collections, whose pause grows with every
    object in view (100-200 ms with a thousand SSE streams open), come ten times less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


@app.command()
def migrate(
    revision: Annotated[
        str, typer.Argument(help="Target revision: newer upgrades, older rolls back (default: head)")
    ] = "head",
) -> None:
    """Move the database to REVISION (default: head): upgrades, or rolls back to an older one."""
    from alembic.util import CommandError

    from talkative import migrations

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    before = migrations.current_revision_sync(url)
    try:
        with migrations.quiet_alembic():
            direction = migrations.migrate_to(url, revision)
    except CommandError as exc:
        raise _fail(f"cannot migrate to {revision!r}: {exc}") from None
    after = migrations.current_revision_sync(url)
    moved = {"upgrade": "upgraded", "downgrade": "rolled back"}.get(direction)
    detail = f" ({moved} from {before or 'an empty database'})" if moved else " (no migration needed)"
    typer.echo(f"database at revision {after or 'base (no schema)'}{detail}")


@app.command()
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Check the data's integrity (read-only, safe while the server runs); exit code 1 on any finding."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from talkative.errors import TalkativeError
    from talkative.integrity import report as integrity_report
    from talkative.integrity import service as integrity

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        result = asyncio.run(
            integrity.run_check(
                settings.resolved_database_url,
                workspaces_root=settings.workspaces_dir,
                timeout_s=settings.db_timeout_s,
            )
        )
    except TalkativeError as exc:
        raise _fail(exc.message) from None
    except (OSError, SQLAlchemyError) as exc:  # no server there, or not a database we can read
        raise _fail(f"cannot read the database: {type(exc).__name__}: {exc}") from None
    rendered = integrity_report.render_json(result) if as_json else integrity_report.render_table(result)
    typer.echo(rendered)
    raise typer.Exit(code=0 if result.ok else 1)


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="admin, operator or viewer")],
    tenant: Annotated[str | None, typer.Option(help="Tenant id (omit only for a platform admin)")] = None,
    sub: Annotated[str, typer.Option(help="Subject (who the token is for)")] = "cli",
    ttl: Annotated[str, typer.Option(help="Lifetime: 30m, 12h, 7d")] = "12h",
) -> None:
    """Print a JWT signed with the configured secret."""
    settings = get_settings()
    try:
        auth = resolve_auth(settings)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if auth.disabled:
        raise _fail("authentication is disabled (AUTH_DISABLED=true); no token is needed")
    try:
        jwt = mint_token(secret=auth.secret, sub=sub, role=role, tenant_id=tenant, ttl=parse_ttl(ttl))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    sys.stdout.write(jwt + "\n")


@app.command()
def smoke(
    url: Annotated[str, typer.Option(help="Base URL of the server to check")],
    token: Annotated[
        str | None,
        typer.Option(help="Bearer token (operator or admin); default: minted from the local secret"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per check")] = 20.0,
) -> None:
    """The runbook's post-deploy smoke checks; exit code 0 only if every check passes."""
    import asyncio

    from talkative.ops.smoke import render_json, render_table, run_smoke

    if token is None:
        token = _smoke_token(get_settings())
    result = asyncio.run(run_smoke(url, token, timeout_s=timeout))
    typer.echo(render_json(result) if as_json else render_table(result))
    raise typer.Exit(code=0 if result.ok else 1)


def _smoke_token(settings: Settings) -> str:
    """A token signed with the server's secret, which must already exist: the smoke test never
    creates one (a new secret here would sign tokens the server rejects)."""
    from talkative.auth.secrets import SECRET_FILE_NAME

    secret_file = (settings.data_dir / SECRET_FILE_NAME).absolute()
    if not (settings.auth_disabled or settings.jwt_secret is not None or secret_file.is_file()):
        raise _fail(
            "no signing secret to mint a token with: pass --token with an operator or admin token "
            "(`talkative token --role admin` on the server), or set AUTH_JWT_SECRET to the server's "
            f"secret, or TALKATIVE_DATA_DIR to its data dir (looked for {secret_file})"
        )
    try:
        auth = resolve_auth(settings)
    except ConfigError as exc:
        raise _fail(f"{exc} (or pass --token)") from None
    if auth.disabled:
        return "auth-disabled"  # any bearer value passes when authentication is off
    return mint_token(
        secret=auth.secret, sub="smoke", role=Role.ADMIN, tenant_id=None, ttl=timedelta(minutes=10)
    )


@app.command()
def backup(
    path: Annotated[
        Path, typer.Argument(help="Archive to write, NAME.tar.gz (.tar.gz is added when missing)")
    ],
    include_secret: Annotated[
        bool, typer.Option("--include-secret", help="Also store DATA_DIR/jwt-secret in the archive")
    ] = False,
) -> None:
    """Snapshot the database and the workspaces into one archive, while the server runs."""
    from talkative.ops.backup import create_backup
    from talkative.ops.dumps import BackupError

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        summary = create_backup(settings, path, include_secret=include_secret)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    typer.echo(summary.render())


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="Archive written by `talkative backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="Restore even though a server is running on this data dir")
    ] = False,
) -> None:
    """Restore an archive into the configured data dir and database, then upgrade its schema."""
    from talkative.ops.dumps import BackupError
    from talkative.ops.restore import restore_backup

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        summary = restore_backup(settings, path, force=force)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    typer.echo(summary.render())


@app.command("import-legacy")
def import_legacy(
    source: Annotated[Path, typer.Argument(help="The POC's backend/data folder")],
    workspaces: Annotated[
        Path | None, typer.Option(help="The POC's workspace folder (holds <agentId>/); copied in")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be imported; write nothing")
    ] = False,
) -> None:
    """Import the reference Node.js POC's data, idempotently; prints counts per kind."""
    import asyncio

    from talkative.ops.legacy import NotADirectory, render_table
    from talkative.ops.legacy import import_legacy as run_import

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        report = asyncio.run(run_import(settings, source, workspaces=workspaces, dry_run=dry_run))
    except NotADirectory as exc:
        raise _fail(str(exc)) from None
    typer.echo(render_table(report))


@app.command("release-notes")
def release_notes(
    since: Annotated[str, typer.Option("--since", help="The previous release: a commit, tag or branch")],
    version: Annotated[str | None, typer.Option(help="Version to name (default: HEAD's short sha)")] = None,
    validation: Annotated[
        list[Path] | None,
        typer.Option(help="Output of make test / e2e / build, or make release-check's JSON (repeatable)"),
    ] = None,
    repo: Annotated[Path, typer.Option(help="The git checkout")] = Path("."),
) -> None:
    """The runbook's release notes for HEAD since a revision, as Markdown on stdout."""
    from datetime import UTC, datetime

    from talkative.ops.release_notes import ReleaseNotesError, build, render

    try:
        notes = build(repo, since, version=version, validation=validation or [], now=datetime.now(UTC))
    except ReleaseNotesError as exc:
        raise _fail(str(exc)) from None
    typer.echo(render(notes))


if __name__ == "__main__":
    app()
