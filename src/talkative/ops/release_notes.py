"""`talkative release-notes --since REV`: the runbook's release-notes template (docs/runbook.md,
"Release notes"), filled in from the git checkout as Markdown.

- Release: the version given, else HEAD's short sha; Date: now, UTC.
- Scope: the commits since REV, grouped by the area their subject names ("area: what changed").
- Risk: derived from what changed since REV: migrations (listed; the highest risk, the schema must
  roll back with the build), dependencies, authentication code, the run loop.
- Validation: the summary lines of the outputs given with `--validation FILE` (`make test`, e2e,
  build logs, or the JSON summary `make release-check` writes), else what is left to fill in.
- Rollback: REV as the previous build and the schema revision to roll back to: the migrations'
  head at REV, read from that commit's version files with `git show`.

Every expected failure raises `ReleaseNotesError` with a message meant for a person.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from talkative import migrations

VERSIONS_PATH = "src/talkative/migrations/versions"
OTHER_AREA = "other"
# The lines of a command's output that say how it went.
SUMMARY_LINES = [
    re.compile(r"^=+ .*\b(passed|failed|errors?|no tests ran)\b.* =+$"),  # pytest
    re.compile(r"^\s*(Test Files|Tests)\s+\d+ "),  # Vitest
    re.compile(r"^Successfully built "),  # python -m build
    re.compile(r"\bbuilt in [\d.]+\s*m?s\b"),  # Vite
    re.compile(r"^(make(\[\d+\])?: \*\*\* .*|FAIL(ED)?\b.*)$"),  # a failure
    re.compile(r"^Required test coverage of .* (reached|not reached)"),  # pytest-cov
]
AREA_RISKS = [
    ("pyproject.toml", "dependencies changed (pyproject.toml): a fresh install may differ"),
    ("src/talkative/auth/", "authentication code changed: watch 401/403 rates (security regression)"),
    (
        "src/talkative/orchestrator/",
        "the run loop changed: watch the critical loop (message -> workflow patch -> events)",
    ),
    ("src/talkative/runs/", "run state changed: watch runs by status and the critical loop"),
]


class ReleaseNotesError(Exception):
    """The notes cannot be written; the message says why."""


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str


@dataclass
class ReleaseNotes:
    version: str
    head: str
    date: datetime
    since: str
    since_sha: str
    commits: list[Commit]
    migrations_added: list[str]
    risks: list[str]
    schema_at_since: str | None
    schema_at_head: str | None
    validation: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def risk_level(self) -> str:
        if self.migrations_added:
            return "high"
        return "medium" if self.risks else "low"


def git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ReleaseNotesError("git is not installed") from None
    if done.returncode != 0:
        raise ReleaseNotesError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def build(
    repo: Path, since: str, *, version: str | None, validation: Sequence[Path], now: datetime
) -> ReleaseNotes:
    try:
        git(repo, "rev-parse", "--show-toplevel")
    except ReleaseNotesError:
        raise ReleaseNotesError(f"{repo.absolute()} is not a git checkout") from None
    try:
        since_sha = git(repo, "rev-parse", "--verify", "--quiet", f"{since}^{{commit}}").strip()
    except ReleaseNotesError:
        raise ReleaseNotesError(
            f"unknown revision {since!r}: give a commit, tag or branch of this checkout (git log --oneline)"
        ) from None
    head = git(repo, "rev-parse", "HEAD").strip()
    log = git(repo, "log", "--format=%h%x1f%s", f"{since_sha}..{head}")
    commits = [Commit(*line.split("\x1f", 1)) for line in log.splitlines() if "\x1f" in line]
    changed = git(repo, "diff", "--name-status", since_sha, head).splitlines()
    added_migrations = sorted(
        line.split("\t")[-1].rsplit("/", 1)[-1]
        for line in changed
        if line.startswith("A")
        and line.split("\t")[-1].startswith(f"{VERSIONS_PATH}/")
        and line.endswith(".py")
    )
    changed_paths = [line.split("\t")[-1] for line in changed]
    risks = [text for prefix, text in AREA_RISKS if any(p.startswith(prefix) for p in changed_paths)]
    edited = [
        p.rsplit("/", 1)[-1]
        for line, p in zip(changed, changed_paths, strict=True)
        if p.startswith(f"{VERSIONS_PATH}/") and not line.startswith("A") and p.endswith(".py")
    ]
    if edited:
        risks.insert(
            0, f"released migrations edited: {', '.join(edited)} (databases already past them differ)"
        )
    return ReleaseNotes(
        version=version or head[:12],
        head=head,
        date=now,
        since=since,
        since_sha=since_sha,
        commits=commits,
        migrations_added=added_migrations,
        risks=risks,
        schema_at_since=schema_head_at(repo, since_sha),
        schema_at_head=schema_head_at(repo, head),
        validation=[(path.name, summary_lines(path)) for path in validation],
    )


def schema_head_at(repo: Path, rev: str) -> str | None:
    """The migrations' head at a commit (None when it has no migrations yet)."""
    if not _has(repo, rev):
        return None
    names = git(repo, "ls-tree", "--name-only", f"{rev}:{VERSIONS_PATH}").splitlines()
    sources = {n: git(repo, "show", f"{rev}:{VERSIONS_PATH}/{n}") for n in names if n.endswith(".py")}
    if not sources:
        return None
    try:
        return migrations.head_of(sources)
    except ValueError as exc:
        raise ReleaseNotesError(f"the migrations at {rev[:12]}: {exc}") from None


def _has(repo: Path, rev: str) -> bool:
    try:
        git(repo, "cat-file", "-e", f"{rev}:{VERSIONS_PATH}")
    except ReleaseNotesError:
        return False
    return True


def summary_lines(path: Path) -> list[str]:
    """What a validation file says: each step of a `make release-check` JSON summary, or the
    summary lines of a command's output (the last line when none is recognised)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ReleaseNotesError(f"validation file {path} does not exist") from None
    except OSError as exc:
        raise ReleaseNotesError(f"cannot read validation file {path}: {exc}") from None
    if path.suffix == ".json":
        return _json_summary(path, text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    found = [line for line in lines if any(p.search(line) for p in SUMMARY_LINES)]
    return found or lines[-1:] or ["(empty output)"]


def _json_summary(path: Path, text: str) -> list[str]:
    try:
        data = json.loads(text)
        steps = data["steps"]
        return [
            f"{s['name']}: {s['result']} ({float(s['duration_s']):.1f} s)"
            + (f" - {s['detail']}" if s.get("detail") else "")
            for s in steps
        ]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ReleaseNotesError(
            f"{path} is not a `make release-check` JSON summary ({{'steps': [{{'name', 'result', "
            "'duration_s'}]}})"
        ) from None


def area_of(subject: str) -> str:
    """ "events paging: one query parameter" -> "events paging"; no "area:" prefix -> other."""
    if subject.startswith("Merge "):
        return "merges"
    head, sep, _ = subject.partition(":")
    return head.strip() if sep and 0 < len(head.strip()) <= 40 else OTHER_AREA


def render(notes: ReleaseNotes) -> str:
    lines = [
        f"# Release {notes.version}",
        "",
        f"- **Release:** {notes.version} (commit `{notes.head[:12]}`)",
        f"- **Date (UTC):** {notes.date.strftime('%Y-%m-%dT%H:%MZ')}",
        f"- **Since:** {notes.since} (`{notes.since_sha[:12]}`), {len(notes.commits)} commits",
        "",
        "## Scope",
        "",
    ]
    groups: dict[str, list[Commit]] = {}
    for commit in notes.commits:
        groups.setdefault(area_of(commit.subject), []).append(commit)
    if not groups:
        lines += [f"No commits since {notes.since}.", ""]
    for area in sorted(groups, key=lambda a: (a in (OTHER_AREA, "merges"), a)):
        lines.append(f"**{area}**")
        lines += [f"- {c.subject} (`{c.sha}`)" for c in groups[area]]
        lines.append("")
    lines += ["## Risk", "", f"**Level: {notes.risk_level}**", ""]
    if notes.migrations_added:
        lines.append(
            f"- schema changes: {', '.join(notes.migrations_added)}; the schema moves from "
            f"`{notes.schema_at_since or 'base'}` to `{notes.schema_at_head}`, and a rollback must "
            "roll it back with the build"
        )
    lines += [f"- {risk}" for risk in notes.risks]
    if not notes.migrations_added and not notes.risks:
        lines.append("- no schema, dependency, authentication or run-loop change")
    lines.append('- what would show it: the rollback triggers (docs/runbook.md, "Rollback triggers")')
    lines += ["", "## Validation", ""]
    if notes.validation:
        for name, summary in notes.validation:
            lines.append(f"- {name}:")
            lines += [f"  - {line}" for line in summary]
    else:
        lines += [
            "- make test: (not given; pass --validation FILE)",
            "- make release-check: (not given; pass --validation FILE)",
        ]
    lines.append("- talkative smoke after deploy: (fill in after the deploy)")
    schema = notes.schema_at_since or "base"
    lines += [
        "",
        "## Rollback",
        "",
        f"- previous revision (build): `{notes.since_sha[:12]}` ({notes.since})",
        f"- schema revision to roll back to: `{schema}` (`talkative migrate {schema}`, then deploy "
        f"`{notes.since_sha[:12]}`)",
        "- backup taken before the release: (fill in: the `talkative backup` archive)",
        "",
    ]
    return "\n".join(lines)
