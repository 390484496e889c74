"""The results file (`<date>.json`) and its Markdown table (`<date>.md`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HEADER = "| workload | p50 | p95 | p99 | throughput | errors | target | result |"
RULE = "|---|---:|---:|---:|---:|---:|---|---|"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} ms"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}/s"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "**FAIL**", None: "—"}[passed]


def _row(name: str, entry: dict[str, Any], target: str, result: str) -> str:
    return (
        f"| {name} | {_ms(entry.get('p50_ms'))} | {_ms(entry.get('p95_ms'))} | {_ms(entry.get('p99_ms'))} "
        f"| {_rate(entry.get('throughput_per_s'))} | {entry.get('errors', 0)} | {target} | {result} |"
    )


def markdown(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    commit = (results.get("git_commit") or "unknown")[:12] + (" (dirty)" if results.get("git_dirty") else "")
    lines = [
        f"## Talkative benchmark {results.get('date')}{' (quick)' if results.get('quick') else ''}",
        "",
        f"commit {commit} · {machine.get('cores')} cores · Python {machine.get('python')} · "
        f"{machine.get('platform')} · load at start {machine.get('load_avg_at_start')} · "
        f"{results.get('duration_s')} s",
        "",
        HEADER,
        RULE,
    ]
    limit = results.get("limit") or {}
    for name, entry in results.get("workloads", {}).items():
        result = _verdict(entry.get("passed"))
        if name == "limit":
            lines.append(_row("limit", entry, entry.get("target", ""), "reference"))
        elif "points" in entry:
            lines.append(_row(name, entry, entry.get("target", ""), result))
        else:
            extra = ""
            if entry.get("limit_ratio") is not None:
                extra = f" ({entry['limit_ratio']}x limit)"
            if name == "concurrent":
                extra = (
                    f" (lost {entry.get('lost')}, dup {entry.get('duplicated')}, "
                    f"{entry.get('speedup_vs_sequential')}x seq)"
                )
            lines.append(_row(name, entry, entry.get("target", ""), result + extra))
        for point in entry.get("points", []):
            verdict = _verdict(point["passed"]) if "passed" in point else ""
            if "processes" in point:
                verdict += f" (lost {point['lost']}, dup {point['duplicated']}"
                if point.get("speedup_vs_one_process") is not None:
                    verdict += f", {point['speedup_vs_one_process']}x one process"
                if point.get("sqlite_over_postgresql") is not None:
                    verdict += f", SQLite {point['sqlite_over_postgresql']}x this"
                per_message = ", ".join(f"{k} {v}" for k, v in point["cpu_ms_per_message"].items())
                verdict += f"; CPU ms a message: {per_message})"
            if "first_subscriber_p50_ms" in point:
                verdict += (
                    f" (reply p50 {_ms(point['post_reply_p50_ms'])}, "
                    f"fastest subscriber p50 {_ms(point['first_subscriber_p50_ms'])})"
                )
            lines.append(_row(f"{name} · {point['label']}", point, point.get("target", ""), verdict))
    memory = results.get("memory") or {}
    if "peak_rss_mb" in memory:
        lines.append(
            f"| memory: peak RSS | {memory['peak_rss_mb']} MB | — | — | — | — | {memory['target']} "
            f"| {_verdict(memory['passed'])} (server alone {memory['vmhwm_server_mb']} MB; "
            f"{memory.get('rss_before_workloads_mb')} MB before the first workload; tree with children "
            f"by RSS, shared pages counted twice: {memory.get('peak_sampled_rss_tree_mb')} MB) |"
        )
    if limit:
        lines += [
            "",
            f"Limit (minimal FastAPI + SQLite WAL app, same machine, same run): message p50 "
            f"{_ms(limit.get('message_p50_ms'))}, tail p50 {_ms(limit.get('tail_p50_ms'))}, "
            f"`python -c pass` spawn p50 {_ms(limit.get('spawn_p50_ms'))}; ratios {limit.get('ratios')}. "
            f"For information, the loop's skill run by hand (`python triage.py`, fresh interpreter, no "
            f"sandbox): p50 {_ms(limit.get('bare_skill_p50_ms'))}.",
        ]
    notes = []
    for name, entry in results.get("workloads", {}).items():
        context = entry.get("context") or {}
        said = list(entry.get("notes") or [])
        if context:
            said.append(
                f"load avg {context.get('load_avg_before')} -> {context.get('load_avg_after')}"
                + (
                    f", server RSS after {context['server_rss_after_mb']} MB"
                    if "server_rss_after_mb" in context
                    else ""
                )
            )
        if said:
            notes.append(f"- **{name}**: " + "; ".join(said))
    if notes:
        lines += ["", "Notes:", *notes]
    errors = [
        f"- {name}: {sample}"
        for name, entry in results.get("workloads", {}).items()
        for sample in entry.get("error_samples") or []
    ]
    if errors:
        lines += ["", "Error samples:", *errors]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """`<date>.json` and `.md`; a later run the same day gets `<date>.2`, `.3`, ...: an earlier
    (perhaps committed) run's results are never overwritten."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = results["date"] + ("-quick" if results.get("quick") else "")
    stem, n = base, 1
    while (out_dir / f"{stem}.json").exists() or (out_dir / f"{stem}.md").exists():
        n += 1
        stem = f"{base}.{n}"
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path
