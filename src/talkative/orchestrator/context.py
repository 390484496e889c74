"""Gathering what the context builder needs for one run, from the store (the builder stays pure)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import Text, bindparam, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.models import Agent
from talkative.db import core_execute
from talkative.events.models import EventRow
from talkative.events.schemas import EventType
from talkative.prompts import service as prompts
from talkative.prompts.context import Context, EventBrief, SkillBrief, ToolFailure, build_context
from talkative.prompts.models import Prompt
from talkative.skills.manifest import Skill

RECENT_EVENTS = 20
FAILURE_WINDOW = 200
RECENT_FAILURES = 5


# The payload as stored text: it is only parsed for an event not seen before (see _Seen).
_RAW_PAYLOAD = type_coerce(EventRow.payload, Text)

# Built once; only the agent (tenant and id) changes. Columns, not ORM objects: this runs on every message.
_WINDOW = (
    select(EventRow.id)
    .where(EventRow.tenant_id == bindparam("tenant_id"), EventRow.agent_id == bindparam("agent_id"))
    .order_by(EventRow.id.desc())
    .limit(FAILURE_WINDOW)
).subquery()
_FINISHED_TOOLS = (
    select(EventRow.id, EventRow.created_at, _RAW_PAYLOAD)
    .where(EventRow.id.in_(select(_WINDOW.c.id)), EventRow.type == EventType.TOOL_RUN_FINISHED)
    .order_by(EventRow.id.desc())
)
_RECENT = (
    select(EventRow.id, EventRow.created_at, EventRow.type, EventRow.message, _RAW_PAYLOAD)
    .where(EventRow.tenant_id == bindparam("tenant_id"), EventRow.agent_id == bindparam("agent_id"))
    .order_by(EventRow.id.desc())
    .limit(RECENT_EVENTS)
)

_ACTIVE_PROMPT = select(Prompt.template).where(
    Prompt.tenant_id == bindparam("tenant_id"),
    Prompt.agent_id == bindparam("agent_id"),
    Prompt.is_active.is_(True),
)

_T = TypeVar("_T")


class _Seen(Generic[_T]):
    """What was made of each stored event, by (id, created_at): stored events never change, and
    every run reads its agent's newest ones again. The timestamp is part of the key because SQLite
    may hand a deleted newest row's id to a later row.

    Kept for what it measures: parsing and rendering the 20 newest events again costs ~1.7M
    instructions a message, 8% of a message with the local model (callgrind, issue 15)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[tuple[int, datetime], _T] = {}

    def get(self, key: tuple[int, datetime], make: Callable[[], _T]) -> _T:
        try:
            return self._items[key]
        except KeyError:
            pass
        if len(self._items) >= self._size:
            self._items.clear()  # simple and bounded; the working set is refilled in one run
        item = self._items[key] = make()
        return item


_BRIEFS: _Seen[EventBrief] = _Seen(8192)
_FAILURES: _Seen[ToolFailure | None] = _Seen(8192)


def _payload(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else {}


def _brief(type_: str, message: str, raw: str | None) -> EventBrief:
    return EventBrief(type_, message, _payload(raw)).with_line()


def _failure(raw: str | None) -> ToolFailure | None:
    p = _payload(raw)
    if p.get("ok", True):
        return None
    command = p.get("command")
    error = p.get("error") or {}
    return ToolFailure(
        command=" ".join(command) if isinstance(command, list) else str(p.get("command", "")),
        error_code=str(error.get("code", "ERROR")),
        exit_code=p.get("exit_code"),
        reason=str(error.get("message", "")),
    )


async def recent_failures(session: AsyncSession, tenant_id: str, agent_id: str) -> list[ToolFailure]:
    """The agent's latest failed tool runs, newest last (looked for among its newest events only)."""
    params = {"tenant_id": tenant_id, "agent_id": agent_id}
    rows = (await core_execute(session, _FINISHED_TOOLS, params)).all()
    found = (_FAILURES.get((id_, at), partial(_failure, raw)) for id_, at, raw in rows)
    failures = [f for f in found if f is not None][:RECENT_FAILURES]
    return failures[::-1]


async def recent_events(session: AsyncSession, tenant_id: str, agent_id: str) -> list[EventBrief]:
    """The agent's newest events, oldest first (the same index range scan as events.tail)."""
    params = {"tenant_id": tenant_id, "agent_id": agent_id}
    rows = (await core_execute(session, _RECENT, params)).all()
    return [
        _BRIEFS.get((id_, at), partial(_brief, type_, message, raw))
        for id_, at, type_, message, raw in reversed(rows)
    ]


async def for_run(
    session: AsyncSession, *, agent: Agent, message: str, skills: list[Skill], budget: int
) -> Context:
    params = {"tenant_id": agent.tenant_id, "agent_id": agent.id}
    template = (await core_execute(session, _ACTIVE_PROMPT, params)).scalar()
    if template is None:  # the agent's first run: its default prompt is created as version 1
        prompt = await prompts.ensure_default(session, tenant_id=agent.tenant_id, agent_id=agent.id)
        template = prompt.template
    return build_context(
        prompt=template,
        agent_name=agent.name,
        tenant_id=agent.tenant_id,
        message=message,
        skills=[SkillBrief(s.manifest.name, s.manifest.description) for s in skills],
        recent_events=await recent_events(session, agent.tenant_id, agent.id),
        tool_failures=await recent_failures(session, agent.tenant_id, agent.id),
        token_budget=budget,
    )
