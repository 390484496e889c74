"""The integrity check inside the server: the leader runs it at its interval, exports the result
as gauges, and logs a failure as one structured error."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from talkative.integrity import schedule
from talkative.observability.metrics import REGISTRY
from talkative.settings import Settings
from tests.factories import Auth
from tests.integrity import planted
from tests.waiting import eventually

SETTINGS = {"TALKATIVE_INTEGRITY_CHECK_INTERVAL_S": 0.05}


async def _gauges(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("talkative_integrity_check_")
    }


async def test_the_scheduled_check_sets_its_gauges_and_logs_a_failure(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await planted.build_history(client, auth)
    built = time.time()

    async def passed_since(moment: float) -> dict[str, float] | None:
        gauges = await _gauges(client)
        fresh = gauges["talkative_integrity_check_last_run_timestamp_seconds"] > moment
        return gauges if fresh and gauges["talkative_integrity_check_ok"] == 1 else None

    healthy = await eventually(lambda: passed_since(built), what="no passing check after the history")
    assert healthy["talkative_integrity_check_findings"] == 0

    await planted.missing_workspace(settings.workspaces_dir)
    broken_at = time.time()

    async def failed_since() -> dict[str, float] | None:
        gauges = await _gauges(client)
        fresh = gauges["talkative_integrity_check_last_run_timestamp_seconds"] > broken_at
        return gauges if fresh and gauges["talkative_integrity_check_ok"] == 0 else None

    failed = await eventually(failed_since, what="the check never failed on the missing workspace")
    assert failed["talkative_integrity_check_findings"] == 1
    record = next(r for r in caplog.records if getattr(r, "event", None) == "integrity_check_failed")
    assert record.levelno == logging.ERROR and record.name == "talkative.integrity"
    assert getattr(record, "findings") == 1  # noqa: B009
    (first,) = getattr(record, "first_findings")  # noqa: B009
    assert (first["check"], first["subjects"]) == ("workspace_missing", ["tenant-a", "alpha"])
    assert "workspace_missing tenant-a alpha" in record.getMessage()


async def test_a_check_that_cannot_run_counts_as_failed(
    app: FastAPI, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'gone' / 'x.db'}"})
    runtime = dataclasses.replace(app.state.runtime, settings=nowhere)
    before = time.time()
    await schedule.check_once(runtime)
    assert REGISTRY.get_sample_value("talkative_integrity_check_ok") == 0
    last_run = REGISTRY.get_sample_value("talkative_integrity_check_last_run_timestamp_seconds")
    assert last_run is not None and last_run >= before
    record = next(r for r in caplog.records if getattr(r, "event", None) == "integrity_check_error")
    assert record.levelno == logging.ERROR and record.exc_info is not None
