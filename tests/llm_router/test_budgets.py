"""Budget validation and the choice of the cap a call would break (pure)."""

from __future__ import annotations

import pytest

from talkative.errors import Forbidden
from talkative.llm_router.budgets import (
    Budgets,
    BudgetsInvalid,
    Spend,
    TenantCaps,
    first_breach,
    scoped,
    tenant_update,
    validate_budgets,
)
from talkative.llm_router.providers.base import (
    MESSAGE_OVERHEAD_TOKENS,
    REQUEST_OVERHEAD_TOKENS,
    CompletionRequest,
    ProviderOptions,
    chat_input_bound,
)
from talkative.llm_router.providers.openai import OpenAIProvider, chat_body

NOTHING_SPENT = Spend(global_day=0, tenant_day=0, tenant_month=0, agent_day=0, agent_month=0)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"global_daily_cost_cap_usd": -1}, "global_daily_cost_cap_usd"),
        ({"global_daily_cost_cap_usd": True}, "global_daily_cost_cap_usd"),
        ({"tenants": {"t": {"daily_cost_cap_usd": "2"}}}, "tenants.t.daily_cost_cap_usd"),
        ({"agents": {"t": {"a": {"monthly_cost_cap_usd": False}}}}, "agents.t.a.monthly_cost_cap_usd"),
        ({"tenants": {"t": {"daily_cost_cap_usd": float("inf")}}}, "tenants.t.daily_cost_cap_usd"),
        ({"agents": {"a": {"daily_cost_cap_usd": 1}}}, "agents.a: agent caps are keyed by tenant"),
        ({"agents": {"t": 5}}, "agents.t"),
        ({"agents": {"t": {"a": [1]}}}, "agents.t.a"),
        ({"agents": {"a": {"tenant_id": 5}}}, "agents.a.tenant_id"),
        ({"agents": {"a": {"tenant_id": "t" * 65}}}, "agents.a.tenant_id"),
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
            "agents": {"t1": {"a1": {"daily_cost_cap_usd": 0.5}}},
        }
    )
    breach = first_breach(budgets, tenant_id="t1", agent_id="a1", spend=spend, cost=cost)
    assert (breach.cap if breach else None) == expected


def test_agent_caps_of_another_tenant_do_not_apply() -> None:
    budgets = validate_budgets({"agents": {"other": {"a1": {"daily_cost_cap_usd": 0}}}})
    assert first_breach(budgets, tenant_id="t1", agent_id="a1", spend=NOTHING_SPENT, cost=1.0) is None
    assert first_breach(budgets, tenant_id="other", agent_id="a1", spend=NOTHING_SPENT, cost=1.0)


def test_the_older_flat_shape_is_read_by_tenant() -> None:
    """Saved before caps were keyed by tenant: `agents: {agent: {tenant_id, caps}}`."""
    flat = {
        "agents": {"a1": {"tenant_id": "t1", "daily_cost_cap_usd": 0.5}, "a2": {"monthly_cost_cap_usd": 2}}
    }
    assert validate_budgets(flat, tenant="t2").agents == {
        "t1": {"a1": TenantCaps(daily_cost_cap_usd=0.5)},
        "t2": {"a2": TenantCaps(monthly_cost_cap_usd=2)},
    }
    stored = validate_budgets(flat, stored=True)  # a cap that names no tenant applies to no one
    assert stored.agents == {"t1": {"a1": TenantCaps(daily_cost_cap_usd=0.5)}}


def test_a_tenant_cannot_block_another_tenants_cap_on_the_same_agent_id() -> None:
    """Tenant A caps its `shared` first; tenant B then caps its own `shared`: both hold, apart."""
    mine = validate_budgets({"agents": {"a": {"shared": {"daily_cost_cap_usd": 0}}}})
    after_a = tenant_update(Budgets(), mine, "a")
    theirs = validate_budgets({"agents": {"shared": {"daily_cost_cap_usd": 5}}}, tenant="b")
    after_b = tenant_update(after_a, theirs, "b")
    assert after_b.agents == {"a": {"shared": TenantCaps(daily_cost_cap_usd=0)},
                              "b": {"shared": TenantCaps(daily_cost_cap_usd=5)}}  # fmt: skip
    assert first_breach(after_b, tenant_id="b", agent_id="shared", spend=NOTHING_SPENT, cost=1.0) is None
    breach = first_breach(after_b, tenant_id="a", agent_id="shared", spend=NOTHING_SPENT, cost=1.0)
    assert breach is not None and breach.cap == "agent_daily"
    with pytest.raises(Forbidden):
        tenant_update(after_b, validate_budgets({"agents": {"a": {"shared": {}}}}), "b")
    assert scoped(after_b, "b").agents == {"b": {"shared": TenantCaps(daily_cost_cap_usd=5)}}


def test_the_input_bound_counts_every_byte_sent() -> None:
    """One token per byte of every message, their format tokens, and every other input field."""
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "system", "content": "abc"}, {"role": "user", "content": "💸"}],
        "response_format": {"type": "json_object"},
    }
    messages = len("system") + 3 + len("user") + 4 + 2 * MESSAGE_OVERHEAD_TOKENS
    extra = len('{"response_format": {"type": "json_object"}}')
    assert chat_input_bound(body) == REQUEST_OVERHEAD_TOKENS + messages + extra


def test_the_openai_bound_is_computed_from_the_body_it_sends() -> None:
    request = CompletionRequest(
        model="gpt", prompt="ctx " * 50, message="hi", skills=[("s", "d" * 300)], max_tokens=7
    )
    body = chat_body(request)
    assert body["max_tokens"] == 7 and "d" * 299 in str(body["messages"][0]["content"])
    sent = sum(len(str(m["content"]).encode()) for m in body["messages"])
    assert OpenAIProvider(api_key=None, base_url=None, options=ProviderOptions()).input_bound(request) > sent
