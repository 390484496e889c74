"""The committed API document and the types generated from it match the live app.

frontend/openapi.json must be what the app serves at /openapi.json, and frontend/src/api/schema.d.ts
what openapi-typescript generates from it; `make openapi` rewrites both. Each component schema must
also have a name of its own: two Pydantic models with one name make FastAPI prefix both with their
module paths (`talkative__fleet__schemas__NodeCreate`), and the UI's types change name with them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripts.openapi import OPENAPI_JSON, SCHEMA_TS, generate_types, live_document

STALE = "run `make openapi` and commit frontend/openapi.json and frontend/src/api/schema.d.ts"


@pytest.fixture(scope="module")
def live() -> dict[str, Any]:
    return live_document()


def _differences(live: dict[str, Any], committed: dict[str, Any]) -> list[str]:
    """Paths and schemas added, removed or changed, in words (the whole diff is too long to read)."""
    out = []
    for section, key in (("paths", None), ("components", "schemas")):
        new = live.get(section, {})
        old = committed.get(section, {})
        if key:
            new, old = new.get(key, {}), old.get(key, {})
        for name in sorted(new.keys() | old.keys()):
            if name not in old:
                out.append(f"{key or section} {name}: not in the committed file")
            elif name not in new:
                out.append(f"{key or section} {name}: no longer in the app")
            elif new[name] != old[name]:
                out.append(f"{key or section} {name}: changed")
    return out


def test_openapi_json_is_the_live_document(live: dict[str, Any]) -> None:
    committed = json.loads(OPENAPI_JSON.read_text(encoding="utf-8"))
    same = json.dumps(live, sort_keys=True) == json.dumps(committed, sort_keys=True)
    assert same, f"frontend/openapi.json is stale ({STALE}):\n" + "\n".join(
        _differences(live, committed) or ["info or other top-level fields differ"]
    )


def test_schema_types_are_generated_from_openapi_json() -> None:
    generated = generate_types()
    assert generated, "openapi-typescript printed nothing"
    assert SCHEMA_TS.read_text(encoding="utf-8") == generated, (
        f"frontend/src/api/schema.d.ts is stale ({STALE})"
    )


def test_every_schema_has_a_name_of_its_own(live: dict[str, Any]) -> None:
    # FastAPI names a model by its module path when another model has the same class name.
    clashes = [name for name in live["components"]["schemas"] if "__" in name]
    assert clashes == [], f"Pydantic models share a name (rename one): {clashes}"
