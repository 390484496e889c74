from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from talkative.input.types import PositiveInt32

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class PromptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug
    template: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    activate: bool = False


class PromptActivate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug
    version: PositiveInt32


class PromptRead(BaseModel):
    id: str
    tenant_id: str
    agent_id: str
    version: int
    template: str
    is_active: bool
    created_at: datetime


class PromptPage(BaseModel):
    prompts: list[PromptRead]
