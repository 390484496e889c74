"""Server side of the sandbox: which layers work here (probed once), and what the launcher gets.

The layers (see `confine.py`): "user" (never root inside), "pid", "mount" (an allow-listed
filesystem), "network" (no route out) and "seccomp". `status(policy)` probes them by running the
launcher on a script that checks each layer's *effect*, all at once first and, if that fails,
one by one to say which are missing. `TALKATIVE_SANDBOX=required` refuses runs unless every
layer works; `best-effort` asks the launcher only for the layers that do and reports the rest on
every run. The command-line checks in `policy.py` only bound the paths a command *names*: the
sandbox is what keeps a script away from everything else.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import site
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkative.settings import Settings
from talkative.tools.schemas import SandboxMode, SandboxPolicy, SandboxReport, ToolLimits

log = logging.getLogger(__name__)
LAUNCHER = Path(__file__).resolve().with_name("launcher.py")
LAYERS = ("user", "pid", "mount", "network", "seccomp")
WRITABLE = ("inputs", "outputs")
PROBE_TIMEOUT_S = 10.0
# Checks the effect of each layer it is given; prints {"layer": "ok" or what is wrong}.
PROBE_SCRIPT = """
import ctypes, errno, json, os, socket, sys
layers, port = sys.argv[1].split(","), int(sys.argv[2])
hidden = os.path.join(os.path.dirname(os.getcwd()), "hidden")
seen = {}
def check(layer, ok, why):
    if layer in layers:
        seen[layer] = "ok" if ok else why
check("user", os.geteuid() != 0 and os.getegid() != 0, "runs as root")
check("pid", os.getpid() == 1, "not PID 1 of its own PID namespace")
try:
    open("outputs/written", "w").write("x")
    open("skills/written", "w").write("x")
    skills = "skills/ is writable"
except OSError:
    skills = None
check("mount", not os.path.exists(hidden) and not os.path.exists("/etc/shadow") and not skills
      and open("outputs/written").read() == "x", skills or "the host's files are visible")
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    reached = "reached the host's loopback"
except OSError:
    reached = None
check("network", reached is None, reached)
libc = ctypes.CDLL(None, use_errno=True)
denied = libc.unshare(0) == -1 and ctypes.get_errno() == errno.EPERM
check("seccomp", denied, "unshare() is not filtered")
print(json.dumps(seen))
"""

DEFAULT_POLICY = SandboxPolicy()
_lock = threading.Lock()
_statuses: dict[SandboxPolicy, SandboxStatus] = {}


@dataclass(frozen=True)
class SandboxStatus:
    """The layers that work here, and why each other one does not."""

    layers: tuple[str, ...]
    missing: dict[str, str] = field(default_factory=dict)

    def report(self, mode: SandboxMode) -> SandboxReport:
        return SandboxReport(mode=mode, layers=list(self.layers), missing=sorted(self.missing))

    def describe(self) -> str:
        return "; ".join(f"{layer}: {why}" for layer, why in sorted(self.missing.items()))


def policy_for(settings: Settings) -> SandboxPolicy:
    return _policy(settings.sandbox, settings.sandbox_uid, settings.sandbox_gid)


def hidden_paths(settings: Settings) -> list[Path]:
    """What a skill's run must not see: the data dir (database, secret) and, where it lies
    elsewhere (a cluster's shared folder), the workspaces root with the other agents' workspaces."""
    data = settings.data_dir.resolve()
    root = settings.workspaces_dir.resolve()
    return [data] if root.is_relative_to(data) else [data, root]


@functools.cache
def _policy(mode: str, uid: int, gid: int) -> SandboxPolicy:
    return SandboxPolicy(mode=SandboxMode(mode), uid=uid, gid=gid)


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


def _sandbox_binds() -> list[str]:
    """What a confined run sees of the server's import path: the installed packages and, of the
    `talkative` source tree, only the skill helper (`talkative.skills.report`, `.once`) and its packages."""
    package = Path(__file__).resolve().parents[1]
    skills = package / "skills"
    helper = [package / "__init__.py", skills / "__init__.py", skills / "report.py", skills / "once.py"]
    return [*IMPORT_PATH[1:], *(str(path) for path in helper)]


SANDBOX_BINDS = _sandbox_binds()


def launcher_config(
    limits: ToolLimits, cage: Path | None, isolate: dict[str, Any] | None = None
) -> dict[str, Any]:
    config = limits.model_dump(exclude={"timeout_s", "output_cap_bytes"})
    config.update(cage=str(cage) if cage else None, isolate=isolate, server_pid=os.getpid(), path=IMPORT_PATH)
    return config


def isolate_config(
    workspace: Path,
    hidden_paths: Sequence[Path],
    policy: SandboxPolicy = DEFAULT_POLICY,
    layers: Sequence[str] = LAYERS,
) -> dict[str, Any]:
    """What the launcher needs; raises ValueError for dirs that cannot be hidden from this run.

    The filesystem is an allow-list, so `hidden_paths` (the data dir) are hidden with everything
    else; they are checked here so that a caller's mistake (hiding the workspace) is an error.
    """
    root = os.path.realpath(workspace)
    for path in hidden_paths:
        real = os.path.realpath(path)
        if real == "/" or os.path.commonpath([root, real]) == root:
            raise ValueError(f"cannot hide {path} from a run in {workspace}")
    return {
        "layers": list(layers),
        "workspace": root,
        "writable": [os.path.join(root, name) for name in WRITABLE],
        "binds": SANDBOX_BINDS,
        "uid": policy.uid,
        "gid": policy.gid,
        "tmp_bytes": policy.tmp_bytes,
    }


def probe(policy: SandboxPolicy, layers: Sequence[str] = LAYERS) -> dict[str, str]:
    """Run the launcher confined with `layers` once; {layer: why} for each that did not hold."""
    with tempfile.TemporaryDirectory(prefix="talkative-probe-") as data, socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        workspace = Path(data, "workspace")
        for name in ("skills", *WRITABLE):
            (workspace / name).mkdir(parents=True)
        Path(data, "hidden").write_text("probe")
        script = workspace / "skills" / "probe.py"
        script.write_text(PROBE_SCRIPT)
        if os.geteuid() == 0:
            for name in WRITABLE:
                os.chown(workspace / name, policy.uid, policy.gid)
            for path in (Path(data), workspace, workspace / "skills", script):
                path.chmod(0o755)
        config = launcher_config(ToolLimits(), None, isolate_config(workspace, [Path(data)], policy, layers))
        args = [",".join(layers), str(listener.getsockname()[1])]
        try:
            done = subprocess.run(
                launcher_command(config, script, args),
                cwd=workspace, env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT_S, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            return dict.fromkeys(layers, f"probe failed: {exc}")
    try:
        seen = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        lines = (done.stderr.strip() or f"exit status {done.returncode}").splitlines()
        return dict.fromkeys(layers, lines[-1][:300])
    return {layer: str(seen.get(layer, "not checked")) for layer in layers if seen.get(layer) != "ok"}


def _probe_status(policy: SandboxPolicy) -> SandboxStatus:
    failed = probe(policy)
    if not failed:
        return SandboxStatus(layers=LAYERS)
    missing = {}
    for layer in LAYERS:  # which ones, and why: each on its own
        missing.update(probe(policy, [layer]))
    working = tuple(layer for layer in LAYERS if layer not in missing)
    if working:  # together, too (each alone may work where the combination does not)
        for layer, why in probe(policy, working).items():
            missing.setdefault(layer, why)
    return SandboxStatus(layers=tuple(layer for layer in LAYERS if layer not in missing), missing=missing)


def status(policy: SandboxPolicy) -> SandboxStatus:
    """Which layers work here; probed on first use for a policy, then cached for the process.
    Logs once: an error in `required` mode when a layer is missing, a warning in `best-effort`."""
    with _lock:
        found = _statuses.get(policy)
        if found is None:
            found = _statuses[policy] = _probe_status(policy)
            if found.missing:
                level = logging.ERROR if policy.mode is SandboxMode.REQUIRED else logging.WARNING
                log.log(level, "tool runner: %s", refusal_message(found, policy.mode))
        return found


def known_status(policy: SandboxPolicy) -> SandboxStatus | None:
    """`status(policy)` if it has been probed already (a dict read: no lock, no probe), else None."""
    return _statuses.get(policy)


def refusal(found: SandboxStatus, mode: SandboxMode) -> str | None:
    """Why no skill may run on a host with `found`, or None: `required` refuses while any layer is
    missing, `best-effort` runs with the layers there are."""
    if found.missing and mode is SandboxMode.REQUIRED:
        return refusal_message(found, mode)
    return None


def refusal_message(found: SandboxStatus, mode: SandboxMode) -> str:
    missing = ", ".join(sorted(found.missing))
    how = (
        "run the server as root, or as a user allowed unprivileged user namespaces "
        "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), on Linux >= 5.12 "
        "with libseccomp2 installed"
    )
    if mode is SandboxMode.REQUIRED:
        return (
            f"the skill sandbox is unavailable here, so skills are not run (TALKATIVE_SANDBOX=required): "
            f"missing {missing} ({found.describe()}). To fix: {how}; or set TALKATIVE_SANDBOX=best-effort "
            f"to run skills without those layers"
        )
    return (
        f"skills run WITHOUT these sandbox layers (TALKATIVE_SANDBOX=best-effort): {missing} "
        f"({found.describe()})"
    )


def reset() -> None:
    """Forget the probes' answers (tests)."""
    with _lock:
        _statuses.clear()
