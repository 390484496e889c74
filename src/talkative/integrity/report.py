"""How a pass is shown: a table for a terminal, JSON for machines."""

from __future__ import annotations

import json

from talkative.integrity.findings import Report

HEADERS = ("check", "severity", "subjects", "detail")


def render_table(report: Report) -> str:
    if report.ok:
        return f"integrity check passed: {len(report.ran)} checks on {report.engine}, no finding"
    rows = [(str(f.check), str(f.severity), " ".join(f.subjects), f.detail) for f in report.findings]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS[:3])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS[:3], widths, strict=True)) + "  detail"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3] for r in rows]
    lines.append(
        f"integrity check failed: {len(report.findings)} finding(s) in {len(report.ran)} checks on "
        f'{report.engine} (docs/operations.md, "Integrity check", says what each means)'
    )
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, object]:
    return {
        "ok": report.ok,
        "engine": report.engine,
        "checks": [str(check) for check in report.ran],
        "findings": [finding.as_json() for finding in report.findings],
        "finished_at": report.finished_at,
    }


def render_json(report: Report) -> str:
    return json.dumps(as_json(report), indent=2)
