"""Debian's nginx in front of test servers, configured with the shipped deploy/nginx/talkative.conf
(only its upstream servers and its listen port replaced)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.server import free_port

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "talkative.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def site_config(upstreams: list[int], port: int) -> str:
    """The shipped site with these upstream ports and this listen port."""
    text = SHIPPED.read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n" for p in upstreams)
    text, count = re.subn(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, text)
    assert count == 1, "the shipped upstream block changed shape"
    text, count = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", text)
    assert count == 1, "the shipped listen line changed shape"
    return text


@dataclass
class Nginx:
    root: Path
    upstreams: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "site.conf").write_text(site_config(self.upstreams, self.port))
        user = "user root;\n" if os.geteuid() == 0 else ""  # its workers need the temp dirs here
        temp = "".join(
            f"{kind}_temp_path {self.root / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.root / "nginx.conf").write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {self.root / 'nginx.pid'};\n"
            f"error_log {self.root / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\naccess_log off;\n{temp}include {self.root / 'site.conf'};\n}}\n"
        )
        check = subprocess.run(
            [NGINX, "-t", "-p", str(self.root), "-c", str(self.root / "nginx.conf")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.root), "-c", str(self.root / "nginx.conf")], start_new_session=True
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not serve /health: {(self.root / 'error.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
