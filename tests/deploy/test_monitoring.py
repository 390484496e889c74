"""The shipped alert rules and dashboard, checked with Prometheus's own `promtool` (Debian's
prometheus package, installed by scripts/ensure-system-packages.sh) and against the metrics a real
`talkative serve` exports."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
SCRAPE_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "talkative.json"
RUNBOOK = ROOT / "docs" / "runbook.md"
# A metric name inside a PromQL expression: ours all start with talkative_.
METRIC = re.compile(r"\b(talkative_[a-z0-9_]+)")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")
# Grafana's template variables, given values so the expressions parse as plain PromQL.
VARIABLES = {"$__rate_interval": "5m", "$job": "talkative", "$instance": ".*"}


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in doc["panels"] for target in panel.get("targets", [])]


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_the_alert_rules_are_valid() -> None:
    checked = promtool("check", "rules", str(ALERTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_rule_passes_its_unit_tests() -> None:
    tested = promtool("test", "rules", str(ALERT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_broken_rule_fails_its_unit_tests(tmp_path: Path) -> None:
    """The unit tests can fail: the health rule waiting 10 minutes instead of 5 no longer fires at 8."""
    (tmp_path / "alerts.yml").write_text(ALERTS.read_text().replace("for: 5m", "for: 10m", 1))
    (tmp_path / "alerts.test.yml").write_text(ALERT_TESTS.read_text())
    tested = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "TalkativeHealthCheckFailing" in tested.stdout + tested.stderr


def test_each_rule_has_a_case_that_fires_it_and_one_that_does_not() -> None:
    cases = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in cases:
        for expectation in case.get("alert_rule_test", []):
            (fired if expectation.get("exp_alerts") else quiet).add(expectation["alertname"])
    names = {rule["alert"] for rule in rules()}
    assert names - fired == set(), "rules no test fires"
    assert names - quiet == set(), "rules no test shows quiet"


def runbook_anchors() -> set[str]:
    """GitHub-style anchors of docs/runbook.md's headings."""
    anchors = set()
    for line in RUNBOOK.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 -]", "", title).replace(" ", "-"))
    return anchors


def test_every_rule_points_at_a_runbook_section() -> None:
    anchors = runbook_anchors()
    for rule in rules():
        runbook = rule["annotations"]["runbook"]
        path, _, anchor = runbook.partition("#")
        assert path == "docs/runbook.md", rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in docs/runbook.md"
        assert rule["labels"]["trigger"], rule["alert"]


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    """promtool parses each panel's query as a recording rule's expression."""
    queries = dashboard_queries()
    assert len(queries) >= 20
    recording = []
    for number, query in enumerate(queries):
        for variable, value in VARIABLES.items():
            query = query.replace(variable, value)
        recording.append({"record": f"dashboard:query_{number}", "expr": query})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recording}]}))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboard_has_the_panels_an_operator_needs() -> None:
    doc = json.loads(DASHBOARD.read_text())
    titles = " | ".join(panel["title"].lower() for panel in doc["panels"])
    for needed in (
        "requests per endpoint",
        "errors per endpoint",
        "critical loop latency",
        "runs finished by status",
        "tool runs and failures",
        "against caps",
        "sse subscribers",
        "lease takeovers",
    ):
        assert needed in titles
    ids = [panel["id"] for panel in doc["panels"]]
    assert len(ids) == len(set(ids))


def test_the_example_scrape_configuration_is_valid() -> None:
    checked = promtool("check", "config", str(SCRAPE_CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """The metric families a real server's /metrics declares (a family with no sample yet is
    declared too: its HELP and TYPE lines)."""
    server = ServerProcess(data_dir=tmp_path_factory.mktemp("monitoring") / "data").start()
    try:
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
    finally:
        server.stop()
    yield {family(line.split()[2]) for line in text.splitlines() if line.startswith("# TYPE ")}


def test_every_metric_the_rules_and_the_dashboard_use_is_exported(exported: set[str]) -> None:
    used = {
        family(name)
        for expr in [r["expr"] for r in rules()] + dashboard_queries()
        for name in METRIC.findall(expr)
    }
    assert len(used) >= 15
    assert used - exported == set(), "queried but not exported"
