"""Decides whether a command may run: python + a workspace script, every path inside the workspace.

These checks bound what the *command* names. What the script itself opens at run time is not
confined here (it runs with the server's uid): that is the namespaces' job (see `isolation.py`).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from talkative.tools.schemas import ToolErrorCode

INTERPRETERS = frozenset({"python", "python3"})
# No shell ever sees these tokens, but a token that *looks* like shell syntax means the caller
# (often a model) expected shell semantics; refusing is clearer than passing it through literally.
_FORBIDDEN = re.compile(r"[;|&$`<>\x00-\x1f\x7f]")
_MAX_TOKEN = 4096
_PATH_CHARS = ("/", "\\")


class CommandRefused(Exception):
    """A command that must not run; carries the ToolErrorCode reported to the caller."""

    def __init__(self, code: ToolErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class PreparedCommand:
    workspace: Path  # realpath of the workspace
    script: Path  # realpath of the script, inside the workspace
    args: list[str]  # arguments after the script, unchanged


def split_command(command: str | list[str]) -> list[str]:
    """Tokens of a command; strings are split like a POSIX shell would, without running one."""
    if isinstance(command, str):
        if _FORBIDDEN.search(command):
            raise CommandRefused(ToolErrorCode.COMMAND_REFUSED, "shell syntax is not allowed")
        try:
            return shlex.split(command)
        except ValueError as exc:  # unbalanced quotes
            raise CommandRefused(ToolErrorCode.COMMAND_REFUSED, f"unparsable command: {exc}") from exc
    if not all(isinstance(token, str) for token in command):
        raise CommandRefused(ToolErrorCode.COMMAND_REFUSED, "command tokens must be strings")
    return list(command)


def prepare_command(workspace: Path, command: str | list[str]) -> PreparedCommand:
    """Validate `command` against `workspace`; raises CommandRefused, never runs anything."""
    argv = split_command(command)
    if len(argv) < 2 or argv[0] not in INTERPRETERS:
        raise CommandRefused(
            ToolErrorCode.COMMAND_REFUSED, "a command must be `python <script>.py [args...]`"
        )
    for token in argv:
        if _FORBIDDEN.search(token):
            raise CommandRefused(ToolErrorCode.COMMAND_REFUSED, f"shell syntax is not allowed: {token!r}")
    script_token, args = argv[1], argv[2:]
    if script_token.startswith("-") or not script_token.endswith(".py"):
        raise CommandRefused(
            ToolErrorCode.COMMAND_REFUSED, f"the second token must be a .py script: {script_token!r}"
        )
    root = Path(os.path.realpath(workspace))
    if not root.is_dir():
        raise CommandRefused(ToolErrorCode.SPAWN_FAILED, f"no workspace at {workspace}")
    script = resolve_inside(root, script_token)
    if not script.is_file():
        raise CommandRefused(ToolErrorCode.SCRIPT_NOT_FOUND, f"no such script: {script_token}")
    for token in args:
        if len(token) > _MAX_TOKEN:
            raise CommandRefused(ToolErrorCode.COMMAND_REFUSED, "argument too long")
        for candidate in _path_candidates(token):
            if _is_path_like(candidate) or os.path.lexists(root / candidate):
                resolve_inside(root, candidate)
    return PreparedCommand(workspace=root, script=script, args=args)


def resolve_inside(root: Path, path: str) -> Path:
    """Realpath of `path` relative to `root` (symlinks followed); refused if it leaves `root`."""
    if path == "~" or path.startswith("~/"):
        # HOME is the workspace for the child, so a script expanding `~` lands there.
        path = "." + path[1:]
    elif path.startswith("~"):
        raise CommandRefused(ToolErrorCode.PATH_OUTSIDE_WORKSPACE, f"other users' home directories: {path!r}")
    resolved = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, resolved]) != str(root):
        raise CommandRefused(ToolErrorCode.PATH_OUTSIDE_WORKSPACE, f"path leaves the workspace: {path!r}")
    return Path(resolved)


def _is_path_like(value: str) -> bool:
    return any(char in value for char in _PATH_CHARS) or value.startswith((".", "~")) or os.path.isabs(value)


def _path_candidates(token: str) -> list[str]:
    """Every part of an argument that a script's option parser could hand over as a path."""
    candidates = [token, *re.split(r"[=,]", token)[1:]]  # --out=x, key=x, a.json,b.json
    if token.startswith("-") and not token.startswith("--"):
        # argparse reads `-o../x` (or `-vo../x`) as -o="../x": the value may start anywhere.
        candidates += [token[i:] for i in range(2, len(token))]
    return candidates
