from __future__ import annotations

from pydantic import BaseModel


class Health(BaseModel):
    ok: bool
    service: str
    version: str
    revision: str
    database: str
    schema_revision: str | None = None
