"""Provisioning over SSH with the system OpenSSH client: argument lists only, never a local shell.

The tree is built here in a temporary folder with the local layout code, sent as a tar stream on
ssh's stdin, unpacked in a staging folder next to the target and merged by a short POSIX `sh` script
that keeps the same rules as a local provisioning. The key and known_hosts files come only from the
server's settings; the host key must already be in that known_hosts file (no trust on first use).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shlex
import shutil
import signal
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talkative.errors import TalkativeError
from talkative.fleet.exceptions import NodeUnreachable, ProvisionFailed, SshNotConfigured
from talkative.fleet.workspace import CONFIG_FILE, Layout, UnsafeFolder, lay_out
from talkative.skills import install

SSH_ERROR_EXIT = 255  # ssh's own failures (connect, auth, host key); anything else is the remote script
MAX_ERROR_CHARS = 1000
KILL_GRACE_S = 2.0
DATA_DIRS = ("inputs", "outputs")


@dataclass(frozen=True)
class SshConfig:
    """The server-side half of every connection (from settings; nothing here comes from a request)."""

    key: Path | None
    known_hosts: Path | None
    timeout_s: float
    connect_timeout_s: int


@dataclass(frozen=True)
class Target:
    host: str
    user: str
    port: int
    base_path: str


def ssh_argv(binary: str, config: SshConfig, key: Path, known_hosts: Path, target: Target) -> list[str]:
    """The ssh command line; the remote command is appended by the caller as one argument."""
    options = {
        "BatchMode": "yes",
        "StrictHostKeyChecking": "yes",
        "UserKnownHostsFile": str(known_hosts),
        "GlobalKnownHostsFile": "/dev/null",
        "UpdateHostKeys": "no",
        "ConnectTimeout": str(config.connect_timeout_s),
        "ServerAliveInterval": "15",
        "ServerAliveCountMax": "2",
        "IdentitiesOnly": "yes",
        "IdentityAgent": "none",
        "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no",
        "ForwardAgent": "no",
        "ForwardX11": "no",
        "ClearAllForwardings": "yes",
        "PermitLocalCommand": "no",
        "ControlMaster": "no",
        "ControlPath": "none",
        "LogLevel": "ERROR",
    }
    argv = [binary, "-F", "/dev/null", "-T", "-i", str(key), "-p", str(target.port), "-l", target.user]
    for name, value in options.items():
        argv += ["-o", f"{name}={value}"]
    # `--` ends the options: the (already validated) host can never be read as one.
    return [*argv, "--", target.host]


@dataclass(frozen=True)
class Bundle:
    """The agent's tree as a tar archive, with what the merge script must treat specially."""

    archive: bytes
    data_files: list[str]  # under inputs/ and outputs/: added only where the node has no such file
    heartbeat: list[str]  # the commands of HEARTBEAT.md's RUN lines


def remote_script(base_path: str, layout: Layout, bundle: Bundle) -> str:
    """The POSIX sh script that merges the tree unpacked from stdin into `<base_path>/<agent_id>`."""
    q = shlex.quote
    heartbeat = f'"$dest/{install.HEARTBEAT_FILE}"'
    lines = [
        "set -eu",
        "umask 022",
        f"base={q(base_path)}",
        f'dest="$base"/{q(layout.agent_id)}',
        'mkdir -p -- "$base"',
        'stage=$(mktemp -d "$base/.talkative-stage.XXXXXXXX")',
        "trap 'rm -rf -- \"$stage\"' EXIT",
        "trap 'exit 1' HUP INT TERM",
        'tar -x -o -f - -C "$stage"',
        f'new="$stage"/{q(layout.agent_id)}',
        'mkdir -p -- "$dest/skills" "$dest/inputs" "$dest/outputs"',
        f'[ -e {heartbeat} ] || cp -- "$new/{install.HEARTBEAT_FILE}" {heartbeat}',
    ]
    for skill in layout.skill_names:
        lines += [
            f'rm -rf -- "$dest/skills/"{q(skill)}',
            f'mv -- "$new/skills/"{q(skill)} "$dest/skills/"{q(skill)}',
        ]
    for relative in bundle.data_files:
        lines.append(
            f'[ -e "$dest/"{q(relative)} ] || {{ mkdir -p -- "$(dirname -- "$dest/"{q(relative)})" && '
            f'mv -- "$new/"{q(relative)} "$dest/"{q(relative)}; }}'
        )
    # A RUN line is added once, after a final newline if the file lacks one.
    lines.append(f'[ -z "$(tail -c 1 {heartbeat})" ] || echo >> {heartbeat}')
    for command in bundle.heartbeat:
        line = q(f"RUN {command}")
        lines.append(f"grep -qxF -e {line} -- {heartbeat} || printf '%s\\n' {line} >> {heartbeat}")
    lines.append(f'mv -f -- "$new/{CONFIG_FILE}" "$dest/{CONFIG_FILE}"')
    return "\n".join(lines) + "\n"


def build_bundle(layout: Layout) -> Bundle:
    """Lays the agent out in a temporary folder and packs it; blocking (run in a thread)."""
    with tempfile.TemporaryDirectory(prefix="talkative-fleet-") as temp:
        folder = Path(temp) / layout.agent_id
        try:
            lay_out(folder, layout)
        except (OSError, UnsafeFolder) as exc:
            raise ProvisionFailed(f"could not build the agent's files: {exc}") from None
        except TalkativeError as exc:
            raise ProvisionFailed(f"could not build the agent's files: {exc.message}") from None
        data_files = sorted(
            path.relative_to(folder).as_posix()
            for sub in DATA_DIRS
            for path in (folder / sub).rglob("*")
            if path.is_file()
        )
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
            tar.add(folder, arcname=layout.agent_id, filter=_anonymous)
        return Bundle(buffer.getvalue(), data_files, install.read_heartbeat_commands(folder))


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The remote user owns what it unpacks; our uid and user name mean nothing there.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = int(info.mtime)
    return info


def _files(config: SshConfig) -> tuple[str, Path, Path]:
    binary = shutil.which("ssh")
    if binary is None:
        raise SshNotConfigured("the ssh client is not installed on the server (package openssh-client)")
    if config.key is None or not config.key.is_file():
        raise SshNotConfigured("no SSH private key: set TALKATIVE_FLEET_SSH_KEY to a readable key file")
    if config.known_hosts is None or not config.known_hosts.is_file():
        raise SshNotConfigured(
            "no known_hosts file: set TALKATIVE_FLEET_SSH_KNOWN_HOSTS to a file holding the nodes' host keys"
        )
    return binary, config.key, config.known_hosts


def _child_env() -> dict[str, str]:
    # Nothing of the server's environment (tokens, database URL, SSH_AUTH_SOCK) reaches ssh.
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def _tail(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return text[-MAX_ERROR_CHARS:] or "no error output"


async def provision_ssh(config: SshConfig, target: Target, layout: Layout) -> str:
    """Lays the agent out in `<base_path>/<agent_id>/` on the node and returns that path."""
    binary, key, known_hosts = _files(config)
    bundle = await asyncio.to_thread(build_bundle, layout)
    script = remote_script(target.base_path, layout, bundle)
    argv = ssh_argv(binary, config, key, known_hosts, target)
    # The remote login shell parses this one string; `sh -c` makes the script's dialect certain.
    argv.append(f"sh -c {shlex.quote(script)}")
    where = f"{target.user}@{target.host}:{target.port}"
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=_child_env(),
            start_new_session=True,
        )
    except OSError as exc:
        raise SshNotConfigured(f"could not start ssh: {exc.strerror}") from None
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(bundle.archive), config.timeout_s)
    except TimeoutError:
        await _kill(proc)
        raise NodeUnreachable(f"ssh to {where} timed out after {config.timeout_s:g}s") from None
    finally:
        if proc.returncode is None:  # we were cancelled: ssh must not outlive the request
            await asyncio.shield(_kill(proc))
    if proc.returncode == SSH_ERROR_EXIT:
        raise NodeUnreachable(f"ssh to {where} failed: {_tail(stderr)}")
    if proc.returncode != 0:
        raise ProvisionFailed(f"provisioning on {where} failed (exit {proc.returncode}): {_tail(stderr)}")
    return f"{target.base_path.rstrip('/')}/{layout.agent_id}"


async def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), KILL_GRACE_S)
