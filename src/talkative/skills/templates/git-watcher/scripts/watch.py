"""Git watcher: branch, upstream distance, last commit and changed files of a repository.

Read-only. How the porcelain output is parsed is documented in ../references/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

from talkative.skills.report import (
    SkillArgumentParser,
    SkillError,
    SkillResult,
    resolve_in_workspace,
    run_skill,
)

SKILL = "git-watcher"
TIMEOUT_SECONDS = 30
NOT_A_REPO = "not a git repository"
DISTANCE = re.compile(r"(ahead|behind) (\d+)")

Entry = dict[str, Any]


def git_env(workspace: str) -> dict[str, str]:
    """The environment for git: no inherited GIT_* overrides, no discovery above the workspace."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env["GIT_CEILING_DIRECTORIES"] = os.path.dirname(workspace)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"  # error messages are matched below, so they must not be translated
    return env


def git(repo: str, workspace: str, *args: str) -> subprocess.CompletedProcess[str]:
    # -c core.fsmonitor=false: a repository's config could otherwise name a program to run.
    command = ["git", "-c", "core.fsmonitor=false", "--no-optional-locks", "-C", repo, *args]
    try:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=git_env(workspace),
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise SkillError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise SkillError(f"git {args[0]} took longer than {TIMEOUT_SECONDS}s") from None


def parse_header(header: str) -> dict[str, Any]:
    """Read the '## ...' branch line of `status -b`."""
    info: dict[str, Any] = {
        "branch": None,
        "detached": False,
        "upstream": None,
        "ahead": 0,
        "behind": 0,
        "hasCommits": True,
    }
    text = header.removeprefix("## ")
    for prefix in ("No commits yet on ", "Initial commit on "):
        if text.startswith(prefix):
            info.update(branch=text.removeprefix(prefix), hasCommits=False)
            return info
    if text.startswith("HEAD (no branch)"):
        info["detached"] = True
        return info
    names, _, tracking = text.partition(" [")
    branch, _, upstream = names.partition("...")
    info.update(branch=branch, upstream=upstream or None)
    for word, count in DISTANCE.findall(tracking):
        info[word] = int(count)
    return info


def change_of(xy: str) -> str:
    if xy == "??":
        return "untracked"
    if "U" in xy or xy in ("AA", "DD"):
        return "conflicted"
    for code, word in (("R", "renamed"), ("C", "copied"), ("A", "added"), ("D", "deleted")):
        if code in xy:
            return word
    return "modified"


def parse_entries(records: list[str]) -> list[Entry]:
    """Entries of `status --porcelain=v1 -z`; a rename/copy is followed by its original path."""
    entries: list[Entry] = []
    remaining = iter(records)
    for record in remaining:
        xy, path = record[:2], record[3:]
        entry: Entry = {"path": path, "index": xy[0], "worktree": xy[1], "change": change_of(xy)}
        if xy[0] in "RC":
            entry["origPath"] = next(remaining, "")
        entries.append(entry)
    return entries


def count(entries: list[Entry]) -> dict[str, int]:
    counts = {"staged": 0, "unstaged": 0, "untracked": 0, "conflicted": 0}
    for entry in entries:
        if entry["change"] == "untracked":
            counts["untracked"] += 1
        elif entry["change"] == "conflicted":
            counts["conflicted"] += 1
        else:
            counts["staged"] += int(entry["index"] != " ")
            counts["unstaged"] += int(entry["worktree"] != " ")
    return counts


def last_commit(repo: str, workspace: str) -> dict[str, str] | None:
    result = git(repo, workspace, "log", "-1", "--no-show-signature", "--format=%H%x00%s%x00%cI")
    if result.returncode != 0 or not result.stdout.strip():
        return None
    sha, subject, date = result.stdout.rstrip("\n").split("\0")
    return {"sha": sha, "subject": subject, "date": date}


def main(argv: list[str]) -> SkillResult:
    parser = SkillArgumentParser(prog="watch.py", description=__doc__)
    parser.add_argument("--repo", default=".")
    args = parser.parse_args(argv)
    workspace = os.path.realpath(os.getcwd())
    repo = resolve_in_workspace(args.repo)
    if not os.path.isdir(repo):
        raise SkillError(f"repo path {args.repo!r} is not a folder")

    status = git(repo, workspace, "status", "--porcelain=v1", "-b", "-z")
    if status.returncode != 0:
        if NOT_A_REPO in status.stderr:
            return SkillResult({"isGitRepo": False, "repo": args.repo})
        raise SkillError(f"git status failed: {status.stderr.strip()}")
    header, *records = [r for r in status.stdout.split("\0") if r]
    info = parse_header(header)
    entries = parse_entries(records)
    counts = count(entries)
    data = {
        "isGitRepo": True,
        "repo": args.repo,
        **info,
        "lastCommit": last_commit(repo, workspace) if info["hasCommits"] else None,
        "dirty": bool(entries),
        "changedFiles": entries,
        "counts": counts,
    }
    return SkillResult(data, metrics={"changedFiles": len(entries)})


if __name__ == "__main__":
    raise SystemExit(run_skill(SKILL, main))
