"""A real OpenSSH server on 127.0.0.1 for the fleet's SSH tests, with throwaway keys."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")
START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    client_key: Path
    known_hosts: Path  # holds the server's real host key for [127.0.0.1]:port
    folder: Path
    log: Path

    def known_hosts_line(self, public_key: Path) -> str:
        kind, key = public_key.read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {key}\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def keygen(path: Path) -> Path:
    """A new ed25519 key pair without a passphrase; returns the private key's path."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "talkative-test", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


def _require_openssh() -> None:
    missing = [str(SSHD)] if not SSHD.is_file() else []
    missing += [tool for tool in ("ssh", "ssh-keygen") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"OpenSSH is not installed ({', '.join(missing)} missing): the fleet's SSH tests need a real "
            "sshd and ssh client. Install openssh-server and openssh-client "
            "(`make test` does it through scripts/ensure-system-packages.sh)."
        )


def _wait_for_banner(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited with {proc.returncode} at start:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-2.0-"):
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"sshd did not answer on port {port}:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """`/usr/sbin/sshd -D -e` on 127.0.0.1, accepting one throwaway client key for the current user."""
    _require_openssh()
    folder = tmp_path_factory.mktemp("sshd")
    host_key = keygen(folder / "host_ed25519")
    client_key = keygen(folder / "client_ed25519")
    authorized = folder / "authorized_keys"
    authorized.write_text((folder / "client_ed25519.pub").read_text())
    port, user = free_port(), getpass.getuser()
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "StrictModes no",
                "UsePAM no",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                f"AllowUsers {user}",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        # Debian's sshd refuses to start as root without its privilege separation folder.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    checked = subprocess.run(
        [str(SSHD), "-t", "-f", str(config)], capture_output=True, text=True, timeout=30, check=False
    )
    if checked.returncode != 0:
        pytest.fail(f"sshd refused the test configuration: {checked.stderr}")
    log = folder / "sshd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_banner(port, proc, log)
        server = Sshd(port, user, client_key, folder / "known_hosts", folder, log)
        server.known_hosts.write_text(server.known_hosts_line(folder / "host_ed25519.pub"))
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
