from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server on SQLite for the module, signing with the tests' secret."""
    data_dir: Path = tmp_path_factory.mktemp("e2e") / "data"
    process = ServerProcess(data_dir=data_dir, env={"AUTH_JWT_SECRET": TEST_SECRET}).start()
    yield process
    process.stop()
