from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One real server on SQLite for the module, signing with the tests' secret (a module may set
    `SERVER_ENV = {...}` for settings of its own)."""
    data_dir: Path = tmp_path_factory.mktemp("e2e") / "data"
    # Frequent keep-alives let test SSE readers notice quickly that they should stop.
    env = {"AUTH_JWT_SECRET": TEST_SECRET, "TALKATIVE_SSE_KEEPALIVE_S": "0.5"}
    env.update(getattr(request.module, "SERVER_ENV", {}))
    process = ServerProcess(data_dir=data_dir, env=env).start()
    yield process
    process.stop()
