"""The OpenAPI document the web UI is typed against: `make openapi` writes it from the live app.

Writes frontend/openapi.json (the app's own `app.openapi()`, indented) and regenerates
frontend/src/api/schema.d.ts from it with openapi-typescript. tests/ui/test_openapi_committed.py
fails when either committed file differs from what this would write.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from talkative.main import create_app
from talkative.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
OPENAPI_JSON = FRONTEND / "openapi.json"
SCHEMA_TS = FRONTEND / "src" / "api" / "schema.d.ts"
OPENAPI_TYPESCRIPT = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"


def live_document() -> dict[str, Any]:
    """The document the server serves at /openapi.json (it does not depend on the settings)."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(TALKATIVE_DATA_DIR=Path(data_dir), AUTH_JWT_SECRET=secrets.token_urlsafe(48))
        app = create_app(settings)
        return app.openapi()


def serialise(document: dict[str, Any]) -> str:
    """How openapi.json is written: the app's key order, four-space indent, a final newline."""
    return json.dumps(document, indent=4) + "\n"


def generate_types(openapi_json: Path = OPENAPI_JSON) -> str:
    """schema.d.ts as openapi-typescript generates it from `openapi_json` (frontend/node_modules needed)."""
    if not OPENAPI_TYPESCRIPT.exists():
        raise FileNotFoundError(f"{OPENAPI_TYPESCRIPT} is missing: run `make frontend` (it runs npm ci)")
    result = subprocess.run(
        [str(OPENAPI_TYPESCRIPT), str(openapi_json), "--default-non-nullable=false"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def main() -> int:
    OPENAPI_JSON.write_text(serialise(live_document()), encoding="utf-8")
    SCHEMA_TS.write_text(generate_types(), encoding="utf-8")
    print(f"wrote {OPENAPI_JSON.relative_to(ROOT)} and {SCHEMA_TS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
