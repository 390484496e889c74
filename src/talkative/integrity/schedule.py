"""The integrity check inside the server: the cluster's leader runs it every
`TALKATIVE_INTEGRITY_CHECK_INTERVAL_S`, exports the result as gauges and logs a failure as a
structured error (the check's names, ids and details; never a secret, which no check reads)."""

from __future__ import annotations

import logging
import time

from talkative.integrity import service
from talkative.integrity.findings import Report
from talkative.observability.metrics import INTEGRITY_FINDINGS, INTEGRITY_LAST_RUN, INTEGRITY_OK
from talkative.runtime import Runtime

log = logging.getLogger("talkative.integrity")
LOGGED_FINDINGS = 5  # the first ones go into the log line; `talkative check` lists them all


def export(report: Report) -> None:
    INTEGRITY_OK.set(1 if report.ok else 0)
    INTEGRITY_FINDINGS.set(len(report.findings))
    INTEGRITY_LAST_RUN.set(report.finished_at)
    if report.ok:
        log.info("integrity check passed (%d checks)", len(report.ran), extra={"event": "integrity_check_ok"})
        return
    first = report.findings[:LOGGED_FINDINGS]
    log.error(
        "integrity check failed: %d finding(s); run `talkative check` for all of them; first: %s",
        len(report.findings),
        "; ".join(f"{f.check} {' '.join(f.subjects)}: {f.detail}" for f in first),
        extra={
            "event": "integrity_check_failed",
            "findings": len(report.findings),
            "first_findings": [finding.as_json() for finding in first],
        },
    )


async def check_once(runtime: Runtime) -> None:
    settings = runtime.settings
    try:
        report = await service.run_check(
            settings.resolved_database_url,
            workspaces_root=settings.workspaces_dir,
            timeout_s=settings.db_timeout_s,
        )
    except Exception:  # a check that could not run is a failed check, said with its traceback
        INTEGRITY_OK.set(0)
        INTEGRITY_LAST_RUN.set(time.time())
        log.exception("integrity check could not run", extra={"event": "integrity_check_error"})
        return
    export(report)


async def check_loop(runtime: Runtime) -> None:
    """A leader's duty (roles.py): one pass per interval until the process stops or stops leading."""
    while await runtime.pause(runtime.settings.integrity_check_interval_s):
        await check_once(runtime)
