"""Budget validation and the choice of the cap a call would break (pure)."""

from __future__ import annotations

import pytest

from talkative.llm_router.budgets import BudgetsInvalid, Spend, first_breach, validate_budgets

NOTHING_SPENT = Spend(global_day=0, tenant_day=0, tenant_month=0, agent_day=0, agent_month=0)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"global_daily_cost_cap_usd": -1}, "global_daily_cost_cap_usd"),
        ({"global_daily_cost_cap_usd": True}, "global_daily_cost_cap_usd"),
        ({"tenants": {"t": {"daily_cost_cap_usd": "2"}}}, "tenants.t.daily_cost_cap_usd"),
        ({"agents": {"a": {"monthly_cost_cap_usd": False}}}, "agents.a.monthly_cost_cap_usd"),
        ({"tenants": {"t": {"weekly": 1}}}, "tenants.t.weekly"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_budgets_name_the_field(doc: dict[str, object], field: str) -> None:
    with pytest.raises(BudgetsInvalid) as excinfo:
        validate_budgets(doc)
    assert str(excinfo.value).startswith(field)


def test_integers_are_fine() -> None:
    assert validate_budgets({"global_daily_cost_cap_usd": 5}).global_daily_cost_cap_usd == 5.0


@pytest.mark.parametrize(
    ("spend", "cost", "expected"),
    [
        (NOTHING_SPENT, 0.5, None),
        (NOTHING_SPENT, 1.01, "tenant_daily"),
        (
            Spend(global_day=9.9, tenant_day=0, tenant_month=0, agent_day=0, agent_month=0),
            0.2,
            "global_daily",
        ),
        (
            Spend(global_day=0, tenant_day=0, tenant_month=9.5, agent_day=0, agent_month=0),
            0.6,
            "tenant_monthly",
        ),
        (
            Spend(global_day=0, tenant_day=0, tenant_month=0, agent_day=0.25, agent_month=0),
            0.3,
            "agent_daily",
        ),
        (Spend(global_day=0, tenant_day=1.0, tenant_month=0, agent_day=0, agent_month=0), 0.0, None),
    ],
)
def test_first_breach(spend: Spend, cost: float, expected: str | None) -> None:
    budgets = validate_budgets(
        {
            "global_daily_cost_cap_usd": 10,
            "tenants": {"t1": {"daily_cost_cap_usd": 1, "monthly_cost_cap_usd": 10}},
            "agents": {"a1": {"tenant_id": "t1", "daily_cost_cap_usd": 0.5}},
        }
    )
    breach = first_breach(budgets, tenant_id="t1", agent_id="a1", spend=spend, cost=cost)
    assert (breach.cap if breach else None) == expected


def test_agent_caps_of_another_tenant_do_not_apply() -> None:
    budgets = validate_budgets({"agents": {"a1": {"tenant_id": "other", "daily_cost_cap_usd": 0}}})
    assert first_breach(budgets, tenant_id="t1", agent_id="a1", spend=NOTHING_SPENT, cost=1.0) is None
