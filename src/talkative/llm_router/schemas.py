from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class RulesRead(BaseModel):
    default_model: str
    routes: list[dict[str, Any]]
    prices: dict[str, dict[str, float]]
    providers: dict[str, bool]  # provider name -> configured on this server
    # The models routed to whose provider is not configured here: local answers their calls.
    falls_back: list[str]


class CapSpend(BaseModel):
    cap_usd: float | None
    spent_usd: float


class BudgetsRead(BaseModel):
    global_daily_cost_cap_usd: float | None
    tenants: dict[str, dict[str, Any]]
    agents: dict[str, dict[str, Any]]
    spend: dict[str, Any]


class UsageRead(BaseModel):
    id: int
    tenant_id: str
    agent_id: str | None
    run_id: str | None
    model: str
    prompt_tokens: int
    completion_tokens: int
    tokens: int
    cost: float
    latency_ms: float
    status: str
    error: str | None
    created_at: datetime


class UsagePage(BaseModel):
    usage: list[UsageRead]


class Totals(BaseModel):
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: int = 0
    cost: float = 0.0
    error_rate: float = 0.0


class ModelTotals(Totals):
    model: str


class DayTotals(Totals):
    day: date


class GroupTotals(Totals):
    key: str


class RouterMetrics(BaseModel):
    totals: Totals
    per_model: list[ModelTotals]
    per_day: list[DayTotals]
    per_tenant: list[GroupTotals]
    per_agent: list[GroupTotals]
