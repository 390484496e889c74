"""The report helper's temp file is unique per write, not per pid: every sandboxed run is PID 1."""

from __future__ import annotations

import os
from pathlib import Path

from talkative.skills import once


def test_a_write_does_not_use_or_remove_another_run_s_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "outputs" / "report.json"
    target.parent.mkdir()
    # What another run of the same skill, also PID 1 in its own namespace, has in flight.
    in_flight = target.with_name(f"report.json.{os.getpid()}.tmp")
    in_flight.write_text("the other run's half-written report")

    once.write_atomic(str(target), '{"ok": true}')

    assert target.read_text() == '{"ok": true}'
    assert in_flight.read_text() == "the other run's half-written report"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json", in_flight.name]
