"""docs/webhooks.md's verifiers, run as written: a signed delivery passes, a tampered one fails."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from talkative.webhooks import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = signing.new_secret()
BODY = b'{"id":7,"type":"RUN_COMPLETED","payload":{"reply":"caf\xc3\xa9"}}'


def _block(language: str) -> str:
    [code] = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)[-1:]
    return str(code)


def _signed(body: bytes, *, age_s: int = 0) -> tuple[str, str]:
    timestamp = int(time.time()) - age_s
    return str(timestamp), signing.header(SECRET, timestamp, body)


def _python_verify() -> Callable[..., bool]:
    scope: dict[str, object] = {}
    exec(compile(_block("python"), str(DOC), "exec"), scope)  # noqa: S102 (the documentation's own example)
    verify = scope["verify"]
    assert callable(verify)
    return verify


def _shell_verify(tmp_path: Path, timestamp: str, body: bytes, signature: str) -> str:
    (tmp_path / "body.json").write_bytes(body)
    env = {**os.environ, "SECRET": SECRET, "TIMESTAMP": timestamp, "SIGNATURE": signature}
    done = subprocess.run(
        ["/bin/sh", "-c", _block("sh")], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("sent", "received", "age_s", "valid"),
    [(BODY, BODY, 0, True), (BODY, BODY.replace(b"7", b"8"), 0, False), (BODY, BODY, 3600, False)],
)
def test_the_documented_verifiers(
    tmp_path: Path, sent: bytes, received: bytes, age_s: int, valid: bool
) -> None:
    timestamp, signature = _signed(sent, age_s=age_s)
    assert _python_verify()(SECRET, timestamp, received, signature) is valid
    assert _shell_verify(tmp_path, timestamp, received, signature) == ("valid" if valid else "INVALID")


def test_a_forged_signature_is_refused_by_both(tmp_path: Path) -> None:
    timestamp, _ = _signed(BODY)
    forged = "v1=" + "0" * 64
    assert not _python_verify()(SECRET, timestamp, BODY, forged)
    assert _shell_verify(tmp_path, timestamp, BODY, forged) == "INVALID"
