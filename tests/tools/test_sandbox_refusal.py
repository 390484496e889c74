"""A host that cannot confine: which layers are missing and why, and what each sandbox mode then
does with a skill run (`required` refuses it, `best-effort` runs it with what there is)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkative.tools import isolation
from talkative.tools.isolation import LAYERS, SandboxStatus
from talkative.tools.schemas import SandboxMode, SandboxPolicy, SandboxReport, ToolErrorCode
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript
from tests.tools.fake_host import FakeHost, fake_host
from tests.tools.helpers import namespaces_supported

REQUIRED = SandboxPolicy(mode=SandboxMode.REQUIRED)
BEST_EFFORT = SandboxPolicy(mode=SandboxMode.BEST_EFFORT)
FIX = (
    "run the server as root, or as a user allowed unprivileged user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), on Linux >= 5.12 "
    "with libseccomp2 installed"
)
RAN = """
open("outputs/ran.txt", "w").write("ran")
"""


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    with fake_host(monkeypatch) as fake:
        yield fake


def _records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == isolation.log.name]


def test_a_host_where_every_layer_holds_is_probed_once(
    host: FakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    found = isolation.status(REQUIRED)

    assert found == SandboxStatus(layers=LAYERS)
    assert isolation.status(REQUIRED) is found  # cached for the process
    assert host.probes == [(REQUIRED, LAYERS)]
    assert isolation.refusal(found, SandboxMode.REQUIRED) is None
    assert _records(caplog) == []


def test_each_missing_layer_is_named_with_the_reason_it_failed_alone(
    host: FakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    host.alone = {"pid": "not PID 1 of its own PID namespace", "network": "reached the host's loopback"}

    found = isolation.status(REQUIRED)

    assert found.layers == ("user", "mount", "seccomp")
    assert found.missing == {
        "pid": "not PID 1 of its own PID namespace",
        "network": "reached the host's loopback",
    }
    # All at once, then each alone, then the ones that work alone together.
    assert host.probes == [
        (REQUIRED, LAYERS),
        *((REQUIRED, (layer,)) for layer in LAYERS),
        (REQUIRED, ("user", "mount", "seccomp")),
    ]
    assert isolation.status(REQUIRED) is found and len(host.probes) == 7
    message = (
        "the skill sandbox is unavailable here, so skills are not run (TALKATIVE_SANDBOX=required): "
        "missing network, pid (network: reached the host's loopback; pid: not PID 1 of its own PID "
        f"namespace). To fix: {FIX}; or set TALKATIVE_SANDBOX=best-effort to run skills without those layers"
    )
    assert isolation.refusal(found, SandboxMode.REQUIRED) == message
    assert _records(caplog) == [(logging.ERROR, f"tool runner: {message}")]  # once, at the probe


def test_layers_that_only_fail_together_are_missing_too(host: FakeHost) -> None:
    host.alone = {"user": "runs as root"}
    host.together = {"seccomp": "unshare() is not filtered"}

    found = isolation.status(BEST_EFFORT)

    assert found.layers == ("pid", "mount", "network")
    assert found.missing == {"user": "runs as root", "seccomp": "unshare() is not filtered"}
    assert host.probes[-1] == (BEST_EFFORT, ("pid", "mount", "network", "seccomp"))


def test_when_no_layer_works_alone_none_is_tried_together(host: FakeHost) -> None:
    host.alone = dict.fromkeys(LAYERS, "unshare: Operation not permitted")

    found = isolation.status(REQUIRED)

    assert found.layers == ()
    assert found.missing == dict.fromkeys(LAYERS, "unshare: Operation not permitted")
    assert host.probes == [(REQUIRED, LAYERS), *((REQUIRED, (layer,)) for layer in LAYERS)]


def test_best_effort_warns_once_and_never_refuses(host: FakeHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    host.alone = {"mount": "the host's files are visible", "seccomp": "unshare() is not filtered"}

    found = isolation.status(BEST_EFFORT)
    isolation.status(BEST_EFFORT)

    assert isolation.refusal(found, SandboxMode.BEST_EFFORT) is None
    assert found.report(SandboxMode.BEST_EFFORT) == SandboxReport(
        mode=SandboxMode.BEST_EFFORT, layers=["user", "pid", "network"], missing=["mount", "seccomp"]
    )
    assert _records(caplog) == [
        (
            logging.WARNING,
            "tool runner: skills run WITHOUT these sandbox layers (TALKATIVE_SANDBOX=best-effort): "
            "mount, seccomp (mount: the host's files are visible; seccomp: unshare() is not filtered)",
        )
    ]


def test_each_policy_is_probed_for_itself(host: FakeHost) -> None:
    other_uid = SandboxPolicy(mode=SandboxMode.REQUIRED, uid=4242, gid=4242)
    host.alone = {"user": "runs as root"}

    isolation.status(REQUIRED)
    isolation.status(other_uid)

    assert {policy for policy, _ in host.probes} == {REQUIRED, other_uid}


async def test_required_refuses_to_run_a_skill_on_a_host_that_cannot_confine(
    host: FakeHost, workspace: Path, outside: Path, write_script: WriteScript
) -> None:
    host.alone = {"network": "reached the host's loopback"}

    result = await run_tool(
        workspace=workspace, command=write_script("ran.py", RAN), hidden_paths=[outside], sandbox=REQUIRED
    )

    assert not result.ok and result.exit_code is None
    assert result.error is not None and result.error.code is ToolErrorCode.SANDBOX_UNAVAILABLE
    assert result.error.message.startswith(
        "the skill sandbox is unavailable here, so skills are not run (TALKATIVE_SANDBOX=required): "
        "missing network (network: reached the host's loopback). To fix:"
    )
    assert result.metrics.sandbox == SandboxReport(
        mode=SandboxMode.REQUIRED, layers=["user", "pid", "mount", "seccomp"], missing=["network"]
    )
    assert not (workspace / "outputs" / "ran.txt").exists()


@pytest.mark.skipif(not namespaces_supported(), reason="no Linux namespaces here")
async def test_best_effort_runs_the_skill_with_the_layers_there_are(
    host: FakeHost, workspace: Path, outside: Path, write_script: WriteScript
) -> None:
    host.alone = {"network": "reached the host's loopback"}

    result = await run_tool(
        workspace=workspace, command=write_script("ran.py", RAN), hidden_paths=[outside], sandbox=BEST_EFFORT
    )

    assert result.ok, result.stderr
    assert (workspace / "outputs" / "ran.txt").read_text() == "ran"
    assert result.metrics.sandbox == SandboxReport(
        mode=SandboxMode.BEST_EFFORT, layers=["user", "pid", "mount", "seccomp"], missing=["network"]
    )
