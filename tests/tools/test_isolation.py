"""What a running script can reach once isolated: its workspace, not the data dir, host or server.

The paths are written into the scripts as constants: arguments naming them would be refused
before anything runs (see test_sandbox.py), so only isolation can stop these reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkative.tools.schemas import ToolErrorCode
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript
from tests.tools.helpers import namespaces_supported

needs_namespaces = pytest.mark.skipif(not namespaces_supported(), reason="no Linux namespaces here")
pytestmark = needs_namespaces

READS = """
import json, os, sys
DATA = {data!r}
seen = {{}}
for path in [DATA + "/jwt-secret", DATA + "/talkative.db", DATA + "/workspaces/b/inputs/inbox.json",
             "../../../../../jwt-secret", *("/proc/%s/environ" % pid for pid in sys.argv[1:])]:
    try:
        with open(path, "rb") as handle:
            seen[path] = handle.read().decode(errors="replace")
    except OSError as exc:
        seen[path] = type(exc).__name__
seen["data"] = sorted(os.listdir(DATA))
seen["workspaces"] = sorted(os.listdir(DATA + "/workspaces"))
seen["pids"] = sorted(name for name in os.listdir("/proc") if name.isdigit())
print(json.dumps(seen))
"""


@pytest.fixture
def server_like() -> Iterator[int]:
    """A host process started with a secret in its environment (as the server may be)."""
    with subprocess.Popen(["sleep", "60"], env={"OPENAI_API_KEY": "env-secret-value"}) as process:
        yield process.pid
        process.kill()


async def test_data_dir_other_workspaces_and_server_environ_are_hidden(
    data_dir: Path, ws_a: Path, write_in: WriteScript, monkeypatch: pytest.MonkeyPatch, server_like: int
) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", "env-secret-value")
    command = f"{write_in('reads.py', READS.format(data=str(data_dir)))} {os.getpid()} {server_like}"

    exposed = await run_tool(workspace=ws_a, command=command)  # the gap, as it was
    result = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir])

    before, seen = json.loads(exposed.stdout), json.loads(result.stdout)
    assert before[f"{data_dir}/jwt-secret"] == "jwt-secret-value"
    assert "env-secret-value" in before[f"/proc/{server_like}/environ"]
    assert result.ok and result.metrics.isolated and not exposed.metrics.isolated
    for path in (
        f"{data_dir}/jwt-secret", f"{data_dir}/talkative.db", f"{data_dir}/workspaces/b/inputs/inbox.json",
        "../../../../../jwt-secret", f"/proc/{os.getpid()}/environ", f"/proc/{server_like}/environ",
    ):  # fmt: skip
        assert seen[path] == "FileNotFoundError", path
    assert seen["data"] == ["workspaces"]
    assert seen["workspaces"] == ["a"]
    assert seen["pids"] == ["1"]  # the script is PID 1 and alone; no host process is visible
    assert "secret-value" not in result.stdout + result.stderr


async def test_script_still_reads_inputs_writes_outputs_imports_and_runs_git(
    data_dir: Path, ws_a: Path, write_in: WriteScript
) -> None:
    scratch = f"talkative-test-{os.getpid()}-{id(data_dir)}"
    command = write_in(
        "works.py",
        f"""
        import json, os, subprocess, sys
        # Modules the fork server does not preload: imported from disk inside the confinement.
        fresh = [name for name in ("fractions", "zipfile", "sqlite3") if name not in sys.modules]
        import decimal, fractions, sqlite3, zipfile
        inbox = json.load(open("inputs/inbox.json"))
        with open("outputs/report.json", "w") as out:
            json.dump({{"total": str(decimal.Decimal("1.10") * 2)}}, out)
        git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True)
        open("/tmp/{scratch}", "w").write("private scratch")
        ps = sorted(p for p in os.listdir("/proc") if p.isdigit())
        probe = "import json, os; print(json.dumps([sorted(os.listdir('/proc')), str(os.getpid())]))"
        child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        sqlite3.connect(":memory:").execute("select 1")
        print(json.dumps({{"ok": True, "data": {{"inbox": inbox, "fresh": fresh, "git": git.stdout,
                                                "ps": ps, "child_ps": json.loads(child.stdout), "cwd": os.getcwd()}}}}))
        """,
    )

    result = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir])

    assert result.ok, result.stderr
    assert result.metrics.isolated
    assert result.artifacts == ["outputs/report.json"]
    assert json.loads((ws_a / "outputs" / "report.json").read_text()) == {"total": "2.20"}
    assert result.skillReport is not None
    data = result.skillReport["data"]
    assert data["inbox"] == ["hello"]
    assert data["fresh"] == ["fractions", "zipfile", "sqlite3"]
    assert data["git"].startswith("git version")
    assert data["ps"] == ["1"]
    listed, own_pid = data["child_ps"]
    assert [name for name in listed if name.isdigit()] == ["1", own_pid]  # the script and this child
    assert data["cwd"] == str(ws_a.resolve())
    assert not Path(tempfile.gettempdir(), scratch).exists()  # /tmp was the run's own


@pytest.fixture
def elsewhere() -> Iterator[Path]:
    """A host directory outside /tmp and outside the data dir, which a run must not write to."""
    path = Path(tempfile.mkdtemp(prefix="talkative-test-", dir="/var/tmp"))
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


async def test_script_cannot_undo_the_isolation_or_write_to_the_host(
    data_dir: Path, ws_a: Path, write_in: WriteScript, elsewhere: Path
) -> None:
    command = write_in(
        "undo.py",
        f"""
        import ctypes, json, os, sys
        if os.readlink("/proc/self/ns/mnt") == {os.readlink("/proc/self/ns/mnt")!r}:
            sys.exit("not in a mount namespace of its own: the host's mounts are not for trying")
        libc = ctypes.CDLL(None, use_errno=True)
        DATA, ELSEWHERE = {str(data_dir)!r}, {str(elsewhere)!r}
        tried = {{}}
        def attempt(name, call):
            try:
                result = call()
                tried[name] = "errno %d" % ctypes.get_errno() if result == -1 else "done"
            except OSError as exc:
                tried[name] = type(exc).__name__
        attempt("umount data", lambda: libc.umount2(DATA.encode(), 2))
        attempt("umount proc", lambda: libc.umount2(b"/proc", 2))
        attempt("mount proc", lambda: libc.mount(b"proc", b"/mnt", b"proc", 0, None))
        attempt("remount rw", lambda: libc.mount(None, b"/", None, 32 | 4096, None))
        attempt("unshare", lambda: libc.unshare(0x00020000))
        attempt("write host", lambda: open(ELSEWHERE + "/pwned", "w"))
        attempt("write data", lambda: open(DATA + "/pwned", "w"))
        attempt("leave cgroup", lambda: open("/sys/fs/cgroup/pids/cgroup.procs", "w").write(str(os.getpid())))
        for disk in {HOST_DISKS[:1]!r}:
            attempt("read disk", lambda: open("/dev/" + disk, "rb").read(512))
        attempt("read secret", lambda: open(DATA + "/jwt-secret").read())
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
        print(json.dumps({{"tried": tried, "caps": [status[k].strip() for k in ("CapEff", "CapBnd")],
                          "no_new_privs": status["NoNewPrivs"].strip()}}))
        """,
    )

    result = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir])

    assert result.ok, result.stderr
    seen = json.loads(result.stdout)
    assert seen["caps"] == ["0000000000000000"] * 2 and seen["no_new_privs"] == "1"
    eperm, gone = "errno 1", "FileNotFoundError"  # no capabilities, seccomp; an allow-listed root
    # The data dir's path is only the way to the workspace: read-only, or on the run's own /tmp.
    in_data = "PermissionError" if str(data_dir).startswith(tempfile.gettempdir()) else "OSError"
    expected = {
        "umount data": eperm, "umount proc": eperm, "mount proc": eperm, "remount rw": eperm,
        "unshare": eperm, "write host": gone, "write data": in_data, "leave cgroup": gone,
        "read disk": gone,  # the host's disks are not in the run's /dev
        "read secret": gone,
    }  # fmt: skip
    if not HOST_DISKS:
        del expected["read disk"]
    assert seen["tried"] == expected
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in data_dir.iterdir()) == ["jwt-secret", "talkative.db", "workspaces"]


async def test_exit_status_and_failures_come_through(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    exits = write_in("exits.py", "import sys\nprint('partial')\nsys.exit(3)\n")
    raises = write_in("raises.py", "raise RuntimeError('boom')\n")

    exited = await run_tool(workspace=ws_a, command=exits, hidden_paths=[data_dir])
    raised = await run_tool(workspace=ws_a, command=raises, hidden_paths=[data_dir])

    assert exited.exit_code == 3 and exited.stdout == "partial\n"
    assert exited.error is not None and exited.error.code == ToolErrorCode.NONZERO_EXIT
    assert raised.exit_code == 1 and "RuntimeError: boom" in raised.stderr
    assert exited.metrics.isolated and raised.metrics.isolated


@pytest.mark.parametrize("hidden", ["workspace", "inside", "root"])
async def test_hiding_the_workspace_itself_is_a_caller_error(
    ws_a: Path, write_in: WriteScript, hidden: str
) -> None:
    path = {"workspace": ws_a, "inside": ws_a / "inputs", "root": Path("/")}[hidden]

    command = write_in("ran.py", "open('outputs/ran', 'w')\n")

    with pytest.raises(ValueError, match="cannot hide"):
        await run_tool(workspace=ws_a, command=command, hidden_paths=[path])

    assert not (ws_a / "outputs" / "ran").exists()


async def test_a_missing_hidden_dir_has_nothing_to_hide(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in("hi.py", "print('hi')\n")

    result = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir / "gone", data_dir])

    assert result.ok and result.stdout == "hi\n" and result.metrics.isolated


HOST_DISKS = [name for name in os.listdir("/sys/class/block") if os.path.exists("/dev/" + name)]
INSTALL_TOP = Path(*Path(sys.base_prefix).parts[:2])  # /root for /root/.pyenv/versions/3.11.7


@pytest.mark.skipif(str(INSTALL_TOP) in ("/", "/usr"), reason="Python is installed system-wide")
async def test_even_the_python_install_s_top_dir_can_be_hidden(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in(
        "python.py",
        f"""
        import json, multiprocessing, os, subprocess, sys, tempfile
        with multiprocessing.Pool(2) as pool:  # semaphores in /dev/shm, a fork per worker
            values = pool.map(abs, [-1, -2])
        child = subprocess.run([sys.executable, "-c", "import decimal; print('child ok')"],
                               capture_output=True, text=True)
        with tempfile.NamedTemporaryFile() as handle:
            handle.write(b"x")
        print(json.dumps({{"listing": os.listdir({str(INSTALL_TOP)!r}), "values": values,
                          "child": child.stdout + child.stderr}}))
        """,
    )

    result = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir, INSTALL_TOP])

    assert result.ok, result.stderr
    seen = json.loads(result.stdout)
    assert seen["values"] == [1, 2] and seen["child"] == "child ok\n"
    assert set(seen["listing"]) < set(os.listdir(INSTALL_TOP))  # only the way to the install is left
