"""Guards the benchmark driver from rotting: a `--quick` run against a real server, no speed asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from bench.driver import WORKLOADS

from bench import report
from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import PG_ADMIN_DSN, TEST_SECRET
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir: Path = tmp_path_factory.mktemp("bench") / "data"
    process = ServerProcess(data_dir=data_dir, env={"AUTH_JWT_SECRET": TEST_SECRET}).start()
    yield process
    process.stop()


def _latencies_are_sane(entry: dict[str, object], where: str) -> None:
    p50, p95, p99 = entry["p50_ms"], entry["p95_ms"], entry["p99_ms"]
    assert isinstance(p50, float) and isinstance(p95, float) and isinstance(p99, float), where
    assert 0 < p50 <= p95 <= p99 < 60_000, where
    assert entry["count"] and entry["duration_s"], where
    assert entry["throughput_per_s"] is not None and entry["throughput_per_s"] > 0, where  # type: ignore[operator]


def test_quick_run_reports_every_workload(server: ServerProcess, tmp_path: Path) -> None:
    assert server.process is not None
    token = mint_token(
        secret=TEST_SECRET, sub="bench", role=Role.ADMIN, tenant_id=None, ttl=timedelta(hours=1)
    )
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.driver",
            "--quick",
            "--base-url",
            server.url,
            "--token",
            token,
            "--db-path",
            str(server.data_dir / "talkative.db"),
            "--server-pid",
            str(server.process.pid),
            "--out-dir",
            str(out),
            "--pg-dsn",
            PG_ADMIN_DSN,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,  # the cluster workload starts four server processes of its own
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [json_path] = out.glob("*-quick.json")
    assert json_path.with_suffix(".md").read_text().startswith("## Talkative benchmark")
    assert "| workload | p50 |" in done.stdout

    results = json.loads(json_path.read_text())
    assert set(results) >= {"date", "git_commit", "machine", "workloads", "memory", "limit"}
    assert results["machine"]["cores"] >= 1
    assert set(results["workloads"]) == set(WORKLOADS)
    for name, entry in results["workloads"].items():
        assert {
            "count",
            "duration_s",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "throughput_per_s",
            "errors",
            "target",
        } <= set(entry), name
        assert "passed" in entry and "notes" in entry, name
        assert entry["errors"] == 0, (name, entry["error_samples"], entry["notes"])
        assert not any("crashed" in note for note in entry["notes"]), (name, entry["notes"])
        if "points" in entry:
            assert entry["points"], name
            for point in entry["points"]:
                _latencies_are_sane(point, f"{name} {point['label']}")
        else:
            _latencies_are_sane(entry, name)

    concurrent = results["workloads"]["concurrent"]
    assert concurrent["lost"] == 0 and concurrent["duplicated"] == 0, concurrent["audit"]
    assert concurrent["acknowledged"] == concurrent["count"]
    cluster = results["workloads"]["cluster"]["points"]
    assert [(p["backend"], p["processes"]) for p in cluster] == [
        ("sqlite", 1),
        ("postgresql", 1),
        ("postgresql", 2),
    ]
    for point in cluster:
        assert point["lost"] == 0 and point["duplicated"] == 0, point["audit"]
        assert point["acknowledged"] == point["count"] and not point["servers_exited"], point
    assert cluster[2]["speedup_vs_one_process"] > 0 and cluster[1]["sqlite_over_postgresql"] > 0
    assert results["limit"]["health_throughput_per_s"] > 0
    history = results["workloads"]["history"]["points"]
    assert history[-1]["events"] >= 1_000
    metrics = results["workloads"]["metrics"]["points"]
    assert metrics[-1]["usage_rows"] >= 1_000 and metrics[-1]["runs"] >= 1_000
    assert results["limit"]["message_p50_ms"] > 0 and results["limit"]["spawn_p50_ms"] > 0
    assert results["limit"]["bare_skill_p50_ms"] > results["limit"]["spawn_p50_ms"]  # it does work
    assert results["limit"]["ratios"]["loop"] > 0
    assert results["memory"]["peak_rss_mb"] > 10
    memory = results["memory"]  # children by PSS: never more than the same samples by RSS
    assert 10 < memory["peak_sampled_tree_mb"] <= memory["peak_sampled_rss_tree_mb"]


def test_a_later_run_the_same_day_does_not_overwrite_the_earlier(tmp_path: Path) -> None:
    results = {"date": "2026-11-24", "quick": False, "workloads": {}}
    first = report.write(results, tmp_path)
    second = report.write({**results, "commit": "later"}, tmp_path)
    assert [p.name for p in first] == ["2026-11-24.json", "2026-11-24.md"]
    assert [p.name for p in second] == ["2026-11-24.2.json", "2026-11-24.2.md"]
    assert "later" not in first[0].read_text() and "later" in second[0].read_text()
