"""Budgets: the caps, their validation, and which cap a call would break (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from talkative.errors import Forbidden, InvalidInput

Cap = float | None


def _plain_number(value: object) -> object:
    """Caps are numbers as JSON writes them: not booleans, not strings."""
    if isinstance(value, (bool, str)):
        raise ValueError("must be a number or null")
    return value


class TenantCaps(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("daily_cost_cap_usd", "monthly_cost_cap_usd", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        return _plain_number(value)

    daily_cost_cap_usd: float | None = Field(default=None, ge=0)
    monthly_cost_cap_usd: float | None = Field(default=None, ge=0)


class AgentCaps(TenantCaps):
    tenant_id: str | None = Field(default=None, max_length=64)


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    global_daily_cost_cap_usd: float | None = Field(default=None, ge=0)

    @field_validator("global_daily_cost_cap_usd", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        return _plain_number(value)

    tenants: dict[str, TenantCaps] = Field(default_factory=dict, max_length=10_000)
    agents: dict[str, AgentCaps] = Field(default_factory=dict, max_length=10_000)


class BudgetsInvalid(InvalidInput):
    code = "INVALID_BUDGETS"


def validate_budgets(data: object) -> Budgets:
    try:
        return Budgets.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "budgets"
        raise BudgetsInvalid(f"{where}: {first['msg']}") from None


def tenant_update(current: Budgets, submitted: Budgets, tenant: str) -> Budgets:
    """The budgets after an admin of `tenant` saves `submitted` (what it sees: its own caps only).

    Only that tenant's caps and its agents' caps change; everyone else's stay as they are. The
    platform-wide cap belongs to platform admins (403 if changed). Agent caps are written for this
    tenant, so they can never apply to another tenant's agent.
    """
    if submitted.global_daily_cost_cap_usd != current.global_daily_cost_cap_usd:
        raise Forbidden("the global daily cap is platform-wide: only a platform admin can change it")
    foreign = sorted(t for t in submitted.tenants if t != tenant)
    if foreign:
        raise Forbidden(f"caps of another tenant cannot be set from tenant '{tenant}': {', '.join(foreign)}")
    for agent_id, caps in submitted.agents.items():
        held = current.agents.get(agent_id)
        if caps.tenant_id not in (None, tenant) or (held is not None and held.tenant_id != tenant):
            raise Forbidden(f"agent '{agent_id}' caps belong to another tenant")
    tenants = {t: caps for t, caps in current.tenants.items() if t != tenant}
    if tenant in submitted.tenants:
        tenants[tenant] = submitted.tenants[tenant]
    agents = {a: caps for a, caps in current.agents.items() if caps.tenant_id != tenant}
    agents.update({a: caps.model_copy(update={"tenant_id": tenant}) for a, caps in submitted.agents.items()})
    return Budgets(
        global_daily_cost_cap_usd=current.global_daily_cost_cap_usd, tenants=tenants, agents=agents
    )


@dataclass(frozen=True)
class Spend:
    """Spend so far (reserved calls included) in each window that has a cap."""

    global_day: float
    tenant_day: float
    tenant_month: float
    agent_day: float
    agent_month: float


@dataclass(frozen=True)
class Breach:
    cap: str  # global_daily | tenant_daily | tenant_monthly | agent_daily | agent_monthly
    limit: float
    spent: float

    def describe(self, worst_case: float) -> str:
        return (
            f"{self.cap.replace('_', ' ')} cap of ${self.limit:.4f} would be exceeded "
            f"(spent ${self.spent:.4f}, this call may cost up to ${worst_case:.6f})"
        )


def first_breach(
    budgets: Budgets, *, tenant_id: str, agent_id: str | None, spend: Spend, cost: float
) -> Breach | None:
    """The first cap that `cost` on top of `spend` would exceed, if any."""
    tenant = budgets.tenants.get(tenant_id, TenantCaps())
    agent = budgets.agents.get(agent_id or "", AgentCaps()) if agent_id else AgentCaps()
    if agent.tenant_id is not None and agent.tenant_id != tenant_id:
        agent = AgentCaps()  # caps written for another tenant's agent of the same name do not apply
    checks: list[tuple[str, float | None, float]] = [
        ("global_daily", budgets.global_daily_cost_cap_usd, spend.global_day),
        ("tenant_daily", tenant.daily_cost_cap_usd, spend.tenant_day),
        ("tenant_monthly", tenant.monthly_cost_cap_usd, spend.tenant_month),
        ("agent_daily", agent.daily_cost_cap_usd, spend.agent_day),
        ("agent_monthly", agent.monthly_cost_cap_usd, spend.agent_month),
    ]
    for name, limit, spent in checks:
        if limit is not None and spent + cost > limit + 1e-12:
            return Breach(name, limit, spent)
    return None
