"""A skill script is compiled once: later runs load it from a hash-checked bytecode cache."""

from __future__ import annotations

import importlib.util
import marshal
import os
from pathlib import Path

from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript

SAYS = 'print("{word}")\n'


def _cache_of(workspace: Path, name: str) -> Path:
    return Path(importlib.util.cache_from_source(str(workspace / "skills" / "demo" / "scripts" / name)))


async def test_the_first_run_writes_a_cache_python_itself_accepts(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("say.py", SAYS.format(word="hello"))
    result = await run_tool(workspace=workspace, command=command)
    assert result.ok and result.stdout == "hello\n", result.stderr

    cache = _cache_of(workspace, "say.py")
    data = cache.read_bytes()
    source = (workspace / "skills" / "demo" / "scripts" / "say.py").read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b11  # PEP 552: hash-based, checked
    assert data[8:16] == importlib.util.source_hash(source)
    assert not [p for p in cache.parent.iterdir() if p.name.endswith(".tmp")]


async def test_later_runs_load_the_cached_code(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("say.py", SAYS.format(word="hello"))
    assert (await run_tool(workspace=workspace, command=command)).ok
    cache = _cache_of(workspace, "say.py")
    # The same header (it matches the source) over other code: only a run that loads it says so.
    other = compile(SAYS.format(word="from the cache"), "say.py", "exec", dont_inherit=True)
    cache.write_bytes(cache.read_bytes()[:16] + marshal.dumps(other))

    result = await run_tool(workspace=workspace, command=command)

    assert result.stdout == "from the cache\n", result.stderr


async def test_an_edit_is_seen_even_with_the_same_size_and_timestamp(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("say.py", SAYS.format(word="hello"))
    assert (await run_tool(workspace=workspace, command=command)).ok
    script = workspace / "skills" / "demo" / "scripts" / "say.py"
    before = script.stat()
    script.write_text(SAYS.format(word="howdy"))  # as long as "hello"
    os.utime(script, ns=(before.st_atime_ns, before.st_mtime_ns))

    result = await run_tool(workspace=workspace, command=command)

    assert result.stdout == "howdy\n", result.stderr


async def test_a_broken_cache_is_compiled_over(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("say.py", SAYS.format(word="hello"))
    assert (await run_tool(workspace=workspace, command=command)).ok
    cache = _cache_of(workspace, "say.py")
    cache.write_bytes(cache.read_bytes()[:16] + b"\x00not marshal data")

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok and result.stdout == "hello\n", result.stderr
    assert not cache.read_bytes()[16:].startswith(b"\x00not marshal")  # compiled and written again
