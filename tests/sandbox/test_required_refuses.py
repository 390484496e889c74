"""On a host without the kernel features, `required` refuses to run skills, and says why once.

Not faked: the server runs in a process whose own seccomp filter already forbids new namespaces
(as some container runtimes' default profiles do), so every probe really fails in the kernel.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from talkative.tools import isolation

SERVER = """
import asyncio, ctypes, json, logging, sys
from pathlib import Path
sys.path.insert(0, {tools!r})
import seccomp  # the sandbox's own filter: it denies unshare, setns and clone with namespace flags
assert ctypes.CDLL(None).prctl(38, 1, 0, 0, 0) == 0  # no_new_privs
seccomp.install(network=False)
sys.path.pop(0)
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
from talkative.tools.schemas import SandboxMode, SandboxPolicy
from talkative.tools.service import run_tool
data = Path({data!r})
async def main():
    results = {{}}
    for mode in ("required", "best-effort"):
        result = await run_tool(workspace=data / "workspaces" / "a", command="python skills/demo/scripts/peek.py",
                                hidden_paths=[data], sandbox=SandboxPolicy(mode=SandboxMode(mode)))
        results[mode] = result.model_dump(mode="json")
    print(json.dumps(results))
asyncio.run(main())
"""


def test_required_refuses_where_namespaces_are_forbidden(data_dir: Path) -> None:
    peek = data_dir / "workspaces" / "a" / "skills" / "demo" / "scripts" / "peek.py"
    peek.write_text(f"print(open({str(data_dir / 'jwt-secret')!r}).read())\n")
    code = SERVER.format(tools=str(isolation.LAUNCHER.parent), data=str(data_dir))

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    required, best = results["required"], results["best-effort"]
    assert required["error"]["code"] == "SANDBOX_UNAVAILABLE" and required["exit_code"] is None
    message = required["error"]["message"]
    for words in ("mount, network, pid", "unshare", "To fix", "TALKATIVE_SANDBOX=best-effort"):
        assert words in message, message
    assert "jwt-secret-value" not in required["stdout"]
    # One clear message per policy at the first probe, not one per run.
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR ")]
    assert len(errors) == 1 and "skills are not run" in errors[0], done.stderr
    # best-effort runs with what works here and says what it lacked, on the run itself.
    sandbox = best["metrics"]["sandbox"]
    # ("user" alone may fail too: the sandbox uid cannot reach an interpreter under a 0700 /root.)
    assert sandbox["mode"] == "best-effort" and {"mount", "network", "pid"} <= set(sandbox["missing"])
    assert "seccomp" in sandbox["layers"]
    assert best["metrics"]["isolated"] is False and best["ok"] is True
