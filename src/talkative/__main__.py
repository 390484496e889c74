from __future__ import annotations

from talkative.cli import app

app()
