"""Budgets: the caps, their validation, and which cap a call would break (pure)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from talkative.errors import Forbidden, InvalidInput

Cap = float | None
_log = logging.getLogger(__name__)
MAX_ID_CHARS = 64


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

    daily_cost_cap_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    monthly_cost_cap_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)


AgentCaps = TenantCaps  # an agent's caps have the same two windows as its tenant's
_CAP_FIELDS = frozenset(TenantCaps.model_fields) | {"tenant_id"}


class Budgets(BaseModel):
    """The caps in force. Agent caps are keyed by tenant, then agent id: an agent is (tenant, id),
    so a cap written for one tenant's agent never touches another tenant's agent of that id."""

    model_config = ConfigDict(extra="forbid")

    global_daily_cost_cap_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("global_daily_cost_cap_usd", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        return _plain_number(value)

    tenants: dict[str, TenantCaps] = Field(default_factory=dict, max_length=10_000)
    agents: dict[str, dict[str, AgentCaps]] = Field(default_factory=dict, max_length=10_000)

    @model_validator(mode="before")
    @classmethod
    def _flat_agents(cls, data: object, info: ValidationInfo) -> object:
        """Reads the older shape `agents: {agent_id: {tenant_id, caps...}}` as the nested one."""
        if not isinstance(data, dict) or not isinstance(data.get("agents"), dict):
            return data
        context = info.context or {}
        nested: dict[str, Any] = {}
        for key, value in data["agents"].items():
            if value == {} and context.get("tenant") not in (None, key):
                continue  # a tenant admin's agent without caps (flat shape): nothing to keep
            if not _is_flat_entry(value):
                if isinstance(value, dict) and isinstance(nested.get(key), dict):
                    nested[key] = {**nested[key], **value}
                else:
                    nested[key] = value  # pydantic names what is wrong with it
                continue
            caps = dict(value)
            tenant = caps.pop("tenant_id", None) or context.get("tenant")
            if not isinstance(tenant, str | None) or len(tenant or "") > MAX_ID_CHARS:
                raise ValueError(
                    f"agents.{key}.tenant_id: must be a tenant id (at most {MAX_ID_CHARS} characters)"
                )
            if tenant is None:
                if context.get("stored"):
                    _log.warning("budgets: agent %r has a cap without a tenant; it is ignored", key)
                    continue
                raise ValueError(
                    f"agents.{key}: agent caps are keyed by tenant, then agent id "
                    f'({{"agents": {{"<tenant>": {{"{key}": {{...}}}}}}}})'
                )
            into = nested.setdefault(tenant, {})
            if isinstance(into, dict):
                into[key] = caps
        return {**data, "agents": nested}


def _is_flat_entry(value: object) -> bool:
    """An entry of the older shape: caps (numbers, a tenant id), not a map of agents to caps."""
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= _CAP_FIELDS
        and not any(isinstance(v, dict) for v in value.values())
    )


class BudgetsInvalid(InvalidInput):
    code = "INVALID_BUDGETS"


def validate_budgets(data: object, *, tenant: str | None = None, stored: bool = False) -> Budgets:
    """`data` as budgets; agent caps in the older flat shape go to their `tenant_id`, else to
    `tenant` (the saving tenant admin's). A stored doc (`stored`) drops a cap naming no tenant."""
    try:
        return Budgets.model_validate(data, context={"tenant": tenant, "stored": stored})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise BudgetsInvalid(f"{where}: {message}" if first["loc"] else message) from None


def tenant_update(current: Budgets, submitted: Budgets, tenant: str) -> Budgets:
    """The budgets after an admin of `tenant` saves `submitted` (what it sees: its own caps only).

    Only that tenant's caps and its agents' caps change; everyone else's stay as they are. The
    platform-wide cap belongs to platform admins (403 if changed; leaving it out changes nothing).
    """
    global_cap = submitted.global_daily_cost_cap_usd
    if (
        "global_daily_cost_cap_usd" in submitted.model_fields_set
        and global_cap != current.global_daily_cost_cap_usd
    ):
        raise Forbidden("the global daily cap is platform-wide: only a platform admin can change it")
    foreign = sorted(
        {t for t in submitted.tenants if t != tenant} | {t for t in submitted.agents if t != tenant}
    )
    if foreign:
        raise Forbidden(f"caps of another tenant cannot be set from tenant '{tenant}': {', '.join(foreign)}")
    tenants = {t: caps for t, caps in current.tenants.items() if t != tenant}
    if tenant in submitted.tenants:
        tenants[tenant] = submitted.tenants[tenant]
    agents = {t: caps for t, caps in current.agents.items() if t != tenant}
    if submitted.agents.get(tenant):
        agents[tenant] = submitted.agents[tenant]
    return Budgets(
        global_daily_cost_cap_usd=current.global_daily_cost_cap_usd, tenants=tenants, agents=agents
    )


def scoped(budgets: Budgets, tenant: str) -> Budgets:
    """What an admin of `tenant` sees and saves: its caps and its agents' caps, no global cap."""
    return Budgets(
        global_daily_cost_cap_usd=budgets.global_daily_cost_cap_usd,
        tenants={t: c for t, c in budgets.tenants.items() if t == tenant},
        agents={t: c for t, c in budgets.agents.items() if t == tenant},
    )


def agent_caps(budgets: Budgets, tenant_id: str, agent_id: str | None) -> AgentCaps | None:
    return budgets.agents.get(tenant_id, {}).get(agent_id) if agent_id else None


CapScope = Literal["global", "tenant", "agent"]


def cap_scope(budgets: Budgets, tenant_id: str, agent_id: str | None) -> CapScope | None:
    """The widest scope whose caps a call of this tenant and agent counts against; None: no cap.

    Two calls share a cap exactly when they get the same scope here (and, for tenant and agent,
    the same tenant and agent): a global cap counts every call; a tenant's caps count all of its
    agents' calls, so they cover its agents' caps too; otherwise only the agent's own caps matter.
    So one lock on this scope orders every check that could see the other's hold, and no more.
    """
    if budgets.global_daily_cost_cap_usd is not None:
        return "global"
    tenant = budgets.tenants.get(tenant_id)
    if tenant is not None and (tenant.daily_cost_cap_usd, tenant.monthly_cost_cap_usd) != (None, None):
        return "tenant"
    agent = agent_caps(budgets, tenant_id, agent_id)
    if agent is not None and (agent.daily_cost_cap_usd, agent.monthly_cost_cap_usd) != (None, None):
        return "agent"
    return None


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
    agent = agent_caps(budgets, tenant_id, agent_id) or AgentCaps()
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
