"""Readying a workspace for a sandboxed run, on the server side, before the launcher starts.

* `inputs/` and `outputs/` exist (they are the run's only writable dirs in the workspace).
* As root, the script runs as the sandbox uid: those two trees are handed to it, and the rest of
  the workspace is made readable (not writable) by it (a skill installed from a 0700 staging dir
  would not be). As an ordinary user the sandbox uid stands for the server's own: nothing to do.
* The script's bytecode cache: `skills/` is read-only to the run, so the run cannot write its
  `__pycache__` any more (launcher._script_code) and would compile the script every time. The
  server writes it instead, in Python's own format (PEP 552, checked hash: an edit is always seen).
  Compiling is not running: the server never executes skill code.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import stat
from pathlib import Path

from talkative.tools.isolation import WRITABLE


def prepare_workspace(workspace: Path, script: Path, *, uid: int, gid: int) -> None:
    for name in WRITABLE:
        (workspace / name).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        _make_readable(workspace)
        for name in WRITABLE:
            _hand_over(workspace / name, uid, gid)
    _cache_bytecode(script)


def _make_readable(workspace: Path) -> None:
    """Others may read files and enter dirs, except in the writable trees (handed over instead)."""
    for directory, dirs, files in os.walk(workspace):
        if directory == str(workspace):
            dirs[:] = [name for name in dirs if name not in WRITABLE]
        _add_mode(directory, stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            _add_mode(os.path.join(directory, name), stat.S_IROTH)


def _add_mode(path: str, bits: int) -> None:
    info = os.lstat(path)
    if not stat.S_ISLNK(info.st_mode) and info.st_mode & bits != bits:
        os.chmod(path, stat.S_IMODE(info.st_mode) | bits)


def _hand_over(tree: Path, uid: int, gid: int) -> None:
    if tree.is_symlink():  # never chown what it points to; the launcher refuses to bind it anyway
        return
    for directory, dirs, files in os.walk(tree):  # does not follow symlinked dirs; lchown neither
        for path in [directory, *(os.path.join(directory, name) for name in dirs + files)]:
            info = os.lstat(path)
            if (info.st_uid, info.st_gid) != (uid, gid):
                os.lchown(path, uid, gid)


def _cache_bytecode(script: Path) -> None:
    mode = py_compile.PycInvalidationMode.CHECKED_HASH
    try:
        if _stale(script):
            py_compile.compile(str(script), doraise=True, invalidation_mode=mode)
    except (OSError, py_compile.PyCompileError, ValueError):  # the run compiles it (and reports errors)
        return


def _stale(script: Path) -> bool:
    cache = importlib.util.cache_from_source(str(script))
    try:
        with open(cache, "rb") as handle:
            header = handle.read(16)
        source_hash = importlib.util.source_hash(script.read_bytes())
    except OSError:
        return True
    return header != importlib.util.MAGIC_NUMBER + (0b11).to_bytes(4, "little") + source_hash
