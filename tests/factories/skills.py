"""Skills written into an agent's workspace for a test (templates come from the package)."""

from __future__ import annotations

from pathlib import Path

SLOW_SCRIPT = """\
import fcntl, json, os, sys, time
from talkative.skills.report import emit_report
name = sys.argv[1]
alive = open(f"outputs/{name}.alive", "w")  # locked until this process is gone
fcntl.flock(alive, fcntl.LOCK_EX)
with open(f"outputs/{name}.pid", "w") as handle:
    handle.write(str(os.getpid()))
seconds = float(open("inputs/sleep.txt").read()) if os.path.exists("inputs/sleep.txt") else 1.0
time.sleep(seconds)
with open("outputs/executions.log", "a") as log:
    log.write(name + "\\n")
emit_report(name, data={"slept": seconds}, out=f"outputs/{name}.json")
"""


def write_slow_skill(workspace: Path, name: str, trigger: str, *, requires_approval: bool = False) -> None:
    """A test skill that records its pid, sleeps (inputs/sleep.txt seconds) and logs its completion.
    While it runs it holds a lock on outputs/<name>.alive (see `tests.waiting.released`)."""
    folder = workspace / "skills" / name
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "slow.py").write_text(SLOW_SCRIPT)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Sleeps for a while (test skill).\ntriggers: [{trigger}]\n"
        f"command: python skills/{name}/scripts/slow.py {name}\n"
        f"requires_approval: {'true' if requires_approval else 'false'}\n---\nSleeps.\n"
    )


ONCE_SCRIPT = """\
import json, os
from talkative.skills.report import emit_report, once
with open("outputs/attempts.jsonl", "a") as log:  # every attempt, with the environment it was given
    log.write(json.dumps(dict(os.environ)) + "\\n")
with once("effect") as todo:
    if todo:
        with open("outputs/effects.log", "a") as effects:
            effects.write("done\\n")
emit_report("effect", data={"did": todo}, out="outputs/effect.json")
"""


def write_once_skill(workspace: Path, name: str, trigger: str) -> None:
    """A test skill whose effect (a line in outputs/effects.log) is guarded by `once`; each run
    also logs its environment to outputs/attempts.jsonl."""
    folder = workspace / "skills" / name
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "effect.py").write_text(ONCE_SCRIPT)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Does one effect once (test skill).\ntriggers: [{trigger}]\n"
        f"command: python skills/{name}/scripts/effect.py\nrequires_approval: false\n---\nEffect.\n"
    )


GATED_SCRIPT = """\
import fcntl, os, sys, time
name = sys.argv[1]
with open(f"outputs/{name}.starts", "a+") as counter:  # which start of the skill this one is
    fcntl.flock(counter, fcntl.LOCK_EX)
    counter.seek(0)
    start = len(counter.read().split()) + 1
    counter.write(f"{start}\\n")
alive = open(f"outputs/{name}-{start}.alive", "w")  # locked until this process is gone
fcntl.flock(alive, fcntl.LOCK_EX)
while not os.path.exists(f"inputs/go-{start}"):
    time.sleep(0.02)
with open("outputs/executions.log", "a") as log:
    log.write(f"{name} {start}\\n")
"""


def write_gated_skill(workspace: Path, name: str, trigger: str) -> None:
    """A test skill that waits for the test: its n-th start (counted in outputs/<name>.starts)
    finishes only once inputs/go-<n> exists, then logs "<name> <n>" to outputs/executions.log.
    While it runs it holds a lock on outputs/<name>-<n>.alive (see `tests.waiting.released`)."""
    folder = workspace / "skills" / name
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "gated.py").write_text(GATED_SCRIPT)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Waits for the test (test skill).\ntriggers: [{trigger}]\n"
        f"command: python skills/{name}/scripts/gated.py {name}\n"
        "requires_approval: false\n---\nWaits.\n"
    )
