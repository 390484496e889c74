from __future__ import annotations

from pydantic import BaseModel


class SandboxHealth(BaseModel):
    """The skill sandbox in force: its mode, and whether skills can run under it here."""

    mode: str
    available: bool  # every layer works here (best-effort runs skills with `layers` regardless)
    layers: list[str]
    missing: list[str]


class Health(BaseModel):
    ok: bool
    service: str
    version: str
    revision: str
    database: str
    schema_revision: str | None = None
    sandbox: SandboxHealth | None = None
