"""once(key): an effect runs once per step, however often the step starts; another step runs it again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from talkative.skills import once as once_module
from talkative.skills.report import append_record, attempt, idempotency_key, once
from talkative.tools import execution, outcome
from talkative.tools.schemas import StepIdentity
from tests.waiting import eventually_sync

STEP = "run_0123456789abcdef:0"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A skill's cwd, run as step STEP's first attempt."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TALKATIVE_IDEMPOTENCY_KEY", STEP)
    monkeypatch.setenv("TALKATIVE_ATTEMPT", "1")
    return tmp_path


def _effect(log: list[str], key: str = "send") -> bool:
    with once(key) as todo:
        if todo:
            log.append(key)
    return todo


def _records(workspace: Path) -> list[dict[str, object]]:
    folder = workspace / "outputs/.talkative/once"
    return [json.loads(p.read_text()) for p in sorted(folder.iterdir()) if p.name != ".pruned"]


def test_the_first_attempt_does_it_and_records_it(workspace: Path) -> None:
    done: list[str] = []
    assert _effect(done) is True
    assert done == ["send"]
    [record] = _records(workspace)
    assert record["key"] == "send" and record["step"] == STEP and record["attempt"] == 1
    assert str(record["doneAt"]).endswith("Z")


def test_a_second_attempt_of_the_same_step_skips_it(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []
    _effect(done)
    monkeypatch.setenv("TALKATIVE_ATTEMPT", "2")  # the step started again after a takeover

    assert _effect(done) is False
    assert done == ["send"]
    assert [r["attempt"] for r in _records(workspace)] == [1]  # the record says who did it


def test_another_step_or_another_key_does_it_again(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []
    _effect(done)
    _effect(done, "archive")  # another effect of the same step
    monkeypatch.setenv("TALKATIVE_IDEMPOTENCY_KEY", "run_0123456789abcdef:1")  # the run's next step
    _effect(done)
    monkeypatch.setenv("TALKATIVE_IDEMPOTENCY_KEY", "run_fedcba9876543210:0")  # another run
    _effect(done)

    assert done == ["send", "archive", "send", "send"]
    assert len(_records(workspace)) == 4


def test_a_block_that_fails_is_not_recorded(workspace: Path) -> None:
    done: list[str] = []
    with pytest.raises(ConnectionError), once("send") as todo:
        assert todo
        raise ConnectionError("the mail server hung up")

    assert not (workspace / "outputs/.talkative/once").exists() or _records(workspace) == []
    assert _effect(done) is True  # the next attempt does it
    assert done == ["send"]


def test_a_process_killed_inside_the_block_leaves_it_to_the_next_attempt(workspace: Path) -> None:
    # The process dies with the lock file created and no record: the next attempt runs the block.
    script = (
        "import os\nfrom talkative.skills.report import once\n"
        "with once('send'):\n    os.kill(os.getpid(), 9)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert killed.returncode == -9
    assert [p.stat().st_size for p in (workspace / "outputs/.talkative/once").iterdir()] == [0]

    done: list[str] = []
    assert _effect(done) is True and done == ["send"]


def _waits_on_a_lock(pid: int) -> bool:
    """Whether `pid` is blocked waiting for a file lock (a `->` line of /proc/locks)."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any(line.split()[1] == "->" and line.split()[5] == str(pid) for line in lines)


def test_a_concurrent_attempt_waits_for_the_block_and_then_skips_it(workspace: Path) -> None:
    # Another attempt of the same step (its worker was thought dead) is inside the block.
    script = (
        "import sys\nfrom talkative.skills.report import once\n"
        "with once('send') as todo:\n"
        "    print(todo, flush=True)\n"
        "    if todo:\n        sys.stdin.readline()\n"
        "        open('outputs/sent.log', 'a').write(sys.argv[1] + '\\n')\n"
    )

    def attempt_of(name: str, stdin: int) -> subprocess.Popen[str]:
        argv = [sys.executable, "-c", script, name]
        return subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, text=True)

    with attempt_of("first", subprocess.PIPE) as first:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline() == "True\n"  # it holds the lock, inside the block
        with attempt_of("second", subprocess.DEVNULL) as second:
            eventually_sync(lambda: _waits_on_a_lock(second.pid), what="the second attempt never waited")
            first.stdin.write("go\n")
            first.stdin.close()
            assert first.wait(timeout=60) == 0
            assert second.communicate(timeout=60)[0] == "False\n"
    assert (workspace / "outputs/sent.log").read_text() == "first\n"


def test_run_by_hand_every_run_does_it_and_nothing_is_recorded(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALKATIVE_IDEMPOTENCY_KEY")
    monkeypatch.delenv("TALKATIVE_ATTEMPT")
    done: list[str] = []
    _effect(done)
    _effect(done)

    assert done == ["send", "send"]
    assert not (workspace / "outputs").exists()
    assert idempotency_key("send") is None and attempt() == 1


def test_keys_are_hashed_bounded_and_checked(workspace: Path) -> None:
    done: list[str] = []
    _effect(done, "../../" + "x" * 5000)
    [path] = [p for p in (workspace / "outputs/.talkative/once").iterdir() if p.name != ".pruned"]
    assert len(path.name) == 40 and all(c in "0123456789abcdef" for c in path.name)
    assert len(str(_records(workspace)[0]["key"])) == once_module.MAX_LABEL_CHARS
    with pytest.raises(ValueError, match="non-empty string key"):
        once("")


def test_the_same_key_nested_is_an_error_not_a_deadlock(workspace: Path) -> None:
    with once("send"), pytest.raises(RuntimeError, match="already open"), once("send"):
        pass


def test_the_idempotency_key_for_other_services_is_stable_per_step_and_key(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = idempotency_key("charge-42")
    monkeypatch.setenv("TALKATIVE_ATTEMPT", "2")
    assert idempotency_key("charge-42") == first and attempt() == 2
    assert idempotency_key("charge-43") != first
    monkeypatch.setenv("TALKATIVE_IDEMPOTENCY_KEY", "run_0123456789abcdef:1")
    assert idempotency_key("charge-42") != first


def test_old_records_are_pruned_at_most_once_a_day(workspace: Path) -> None:
    folder = workspace / "outputs/.talkative/once"
    long_ago = time.time() - once_module.RETENTION_S - 60

    def age(path: Path) -> None:
        os.utime(path, (long_ago, long_ago))

    _effect([], "old")
    [old] = [p for p in folder.iterdir() if p.name != ".pruned"]
    age(old)
    age(folder / ".pruned")
    _effect([], "new")  # recorded, and the last pruning was long ago: prunes
    assert [r["key"] for r in _records(workspace)] == ["new"]

    for path in folder.iterdir():
        age(path) if path.name != ".pruned" else None
    _effect([], "newer")  # pruned today already: the old record stays until tomorrow
    assert sorted(str(r["key"]) for r in _records(workspace)) == ["new", "newer"]


def test_append_record_adds_one_synced_json_line(workspace: Path) -> None:
    append_record("outputs/history.jsonl", {"n": 1, "name": "Zoë"})
    append_record("outputs/history.jsonl", {"n": 2})
    lines = (workspace / "outputs/history.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{"n": 1, "name": "Zoë"}, {"n": 2}]


def test_the_runner_and_the_helper_agree_on_names() -> None:
    # The tools package must not import the skill helper, so each spells them out.
    env = execution.child_env(Path("/w"), StepIdentity(idempotency_key=STEP, attempt=3))
    assert env[once_module.KEY_VARIABLE] == STEP and env[once_module.ATTEMPT_VARIABLE] == "3"
    assert once_module.KEY_VARIABLE not in execution.child_env(Path("/w"))
    assert once_module.STATE_DIR.removesuffix("once") == outcome.HELPER_STATE
