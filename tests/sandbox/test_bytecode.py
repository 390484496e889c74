"""`skills/` is read-only to a run, so the server writes the script's bytecode cache before it."""

from __future__ import annotations

import importlib.util
import marshal
from pathlib import Path

from talkative.tools.service import run_tool

SAYS = 'print("{word}")\n'


async def test_a_sandboxed_run_loads_the_cache_the_server_wrote(data_dir: Path) -> None:
    workspace = data_dir / "workspaces" / "a"
    script = workspace / "skills" / "demo" / "scripts" / "say.py"
    script.write_text(SAYS.format(word="hello"))
    command = "python skills/demo/scripts/say.py"

    first = await run_tool(workspace=workspace, command=command, hidden_paths=[data_dir])
    cache = Path(importlib.util.cache_from_source(str(script)))
    assert first.ok and first.stdout == "hello\n", first.stderr
    assert cache.read_bytes()[8:16] == importlib.util.source_hash(script.read_bytes())
    # The same header over other code: only a run that loads the cache says so.
    other = compile(SAYS.format(word="from the cache"), str(script), "exec", dont_inherit=True)
    cache.write_bytes(cache.read_bytes()[:16] + marshal.dumps(other))

    second = await run_tool(workspace=workspace, command=command, hidden_paths=[data_dir])

    assert second.stdout == "from the cache\n", second.stderr
