"""Server side of run isolation: is it available here (probed once), and what the launcher gets.

Isolation (see `confine.py`) is what keeps a running script away from the data dir (database,
`jwt-secret`), other agents' workspaces and `/proc/<server pid>/environ`: the command-line checks
in `policy.py` only bound the paths a command *names*. It needs Linux namespaces and root (or
CAP_SYS_ADMIN). Where that is missing the runner still works, without filesystem isolation: one
warning is logged, and every result says so (`metrics.isolated`).
"""

from __future__ import annotations

import json
import logging
import os
import site
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from talkative.tools.schemas import ToolLimits

log = logging.getLogger(__name__)
LAUNCHER = Path(__file__).resolve().with_name("launcher.py")
PROBE_TIMEOUT_S = 10.0
PROBE_OK = "isolated"
# Runs under isolation: `hidden` must be gone, /proc must show only this run, no capabilities left,
# and the workspace must still be writable. Prints PROBE_OK or what went wrong.
PROBE_SCRIPT = f"""
import os, sys
hidden = os.path.join(os.path.dirname(os.getcwd()), "hidden")
status = open("/proc/self/status").read()
open("written", "w").write("x")
failed = [name for name, ok in [
    ("hidden", not os.path.exists(hidden)),
    ("proc", [p for p in os.listdir("/proc") if p.isdigit()] == ["1"]),
    ("capabilities", "CapEff:\\t0000000000000000" in status),
    ("workspace", open("written").read() == "x"),
] if not ok]
print("not isolated: " + ", ".join(failed) if failed else {PROBE_OK!r})
"""

_lock = threading.Lock()
_available: bool | None = None


def launcher_command(config: dict[str, Any], script: Path, args: Sequence[str] = ()) -> list[str]:
    # -E/-s: no PYTHON* variables and no user site-packages can change what the launcher runs.
    # -S: no `site` start-up (.pth files, the editable-install finder: most of a run's start-up
    # time); the launcher puts IMPORT_PATH on sys.path itself instead.
    return [sys.executable, "-E", "-s", "-S", "-B", str(LAUNCHER), json.dumps(config), str(script), *args]


def _import_path() -> list[str]:
    """Where a script finds `talkative.skills.report` and the installed packages, without `site`."""
    package_root = str(Path(__file__).resolve().parents[2])
    return [package_root, *(p for p in site.getsitepackages() if p != package_root)]


IMPORT_PATH = _import_path()


def launcher_config(
    limits: ToolLimits, cage: Path | None, isolate: dict[str, Any] | None = None
) -> dict[str, Any]:
    config = limits.model_dump(exclude={"timeout_s", "output_cap_bytes"})
    config.update(cage=str(cage) if cage else None, isolate=isolate, server_pid=os.getpid(), path=IMPORT_PATH)
    return config


def isolate_config(workspace: Path, hidden_paths: Sequence[Path]) -> dict[str, Any]:
    """What the launcher needs; raises ValueError for dirs that cannot be hidden from this run."""
    root = os.path.realpath(workspace)
    hide = []
    for path in hidden_paths:
        real = os.path.realpath(path)
        if real == "/" or os.path.commonpath([root, real]) == root:
            raise ValueError(f"cannot hide {path} from a run in {workspace}")
        if os.path.isdir(real):  # a missing dir has nothing to hide
            hide.append(real)
    return {"hide": sorted(set(hide)), "workspace": root}


def probe() -> str | None:
    """Run the launcher isolated once, in a throwaway data dir; None if it was, else why not."""
    with tempfile.TemporaryDirectory(prefix="talkative-probe-") as data:
        workspace = Path(data, "workspace")
        workspace.mkdir()
        Path(data, "hidden").write_text("probe")
        script = workspace / "probe.py"
        script.write_text(PROBE_SCRIPT)
        config = launcher_config(ToolLimits(), None, isolate_config(workspace, [Path(data)]))
        try:
            done = subprocess.run(
                launcher_command(config, script),
                cwd=workspace, env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT_S, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            return f"probe failed: {exc}"
    if done.returncode == 0 and done.stdout.strip() == PROBE_OK:
        return None
    lines = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}").splitlines()
    return lines[-1][:300]


def available() -> bool:
    """Whether runs can be isolated here; probed on first use, then cached for the process."""
    global _available
    with _lock:
        if _available is None:
            reason = probe()
            _available = reason is None
            if reason is not None:
                log.warning(
                    "tool runner: Linux namespaces are not usable here (%s); skills run WITHOUT "
                    "filesystem isolation and can read the data directory",
                    reason,
                )
        return _available


def reset() -> None:
    """Forget the probe's answer (tests)."""
    global _available
    with _lock:
        _available = None
