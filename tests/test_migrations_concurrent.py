"""Several processes migrating one empty PostgreSQL database at once (a cluster starting together):
they take turns under an advisory lock, every one succeeds, the schema is applied once."""

from __future__ import annotations

import subprocess
import sys

from talkative import migrations
from tests.conftest import fresh_pg_database

PROCESSES = 3


def test_processes_migrating_an_empty_database_at_once_all_succeed() -> None:
    with fresh_pg_database("talkative_race") as url:
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "talkative.migrations"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        for child in children:  # every child gets the URL before any of them starts migrating
            assert child.stdin is not None
            child.stdin.write(url)
            child.stdin.close()
            child.stdin = None  # written: communicate() below only reads
        try:
            results = [(*child.communicate(timeout=120), child.returncode) for child in children]
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.communicate()
        for out, err, code in results:
            assert code == 0, err[-2000:]
            assert out.strip() == migrations.head_revision()
        assert migrations.current_revision_sync(url) == migrations.head_revision()
