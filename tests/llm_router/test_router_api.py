"""The LLM router's HTTP API: rules, budgets, the usage ledger and metrics, through real requests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import event_names, get_run

RULES, BUDGETS, USAGE, METRICS = (
    "/router/admin/rules",
    "/router/admin/budgets",
    "/router/admin/usage",
    "/router/metrics",
)
ROUTE = {"match": "invoice|factura", "model": "openai/gpt-4o-mini", "max_tokens": 200}
PRICES = {"openai/gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}
SAVED_RULES = {"default_model": "local", "routes": [ROUTE], "prices": PRICES}
SAVED_BUDGETS: dict[str, Any] = {
    "global_daily_cost_cap_usd": 5,
    "tenants": {"tenant-a": {"daily_cost_cap_usd": 1, "monthly_cost_cap_usd": 10}},
    "agents": {"tenant-a": {"mailer": {"daily_cost_cap_usd": 0.5}}},
}


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _put(client: httpx.AsyncClient, auth: Auth, path: str, doc: object, status: int = 200) -> Any:
    response = await client.put(path, json=doc, headers=auth("admin", None))
    assert response.status_code == status, response.text
    return response.json()


async def _message(client: httpx.AsyncClient, auth: Auth, agent: str, text: str = "hello there",
                   tenant: str = "tenant-a") -> httpx.Response:  # fmt: skip
    return await client.post(f"/agents/{agent}/message", json={"message": text}, headers=auth(tenant=tenant))


async def _usage(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    return (await _get(client, USAGE, headers, **params))["usage"]  # type: ignore[no-any-return]


async def _five_messages(client: httpx.AsyncClient, auth: Auth) -> dict[str, list[str]]:
    """3 messages to tenant-a's `alpha`, then 2 to tenant-b's `beta`; the run ids per tenant."""
    await running_agent(client, auth(), "alpha")
    await running_agent(client, auth(tenant="tenant-b"), "beta")
    run_ids: dict[str, list[str]] = {"tenant-a": [], "tenant-b": []}
    for agent, tenant, count in (("alpha", "tenant-a", 3), ("beta", "tenant-b", 2)):
        for i in range(count):
            response = await _message(client, auth, agent, f"message {i} for {agent}", tenant)
            assert response.status_code == 200, response.text
            run_ids[tenant].append(response.json()["run_id"])
    return run_ids


# --- rules ---------------------------------------------------------------------------------------


async def test_default_rules_and_who_may_change_them(client: httpx.AsyncClient, auth: Auth) -> None:
    rules = await _get(client, RULES, auth("viewer"))
    assert (rules["default_model"], rules["routes"], rules["prices"]) == ("local", [], {})
    assert rules["providers"]["local"] is True
    assert rules["providers"]["openai"] is bool(os.environ.get("OPENAI_API_KEY"))
    for role in ("operator", "viewer"):
        refused = await client.put(RULES, json=SAVED_RULES, headers=auth(role))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["code"] == "ROLE_FORBIDDEN"
    assert (await _get(client, RULES, auth("viewer")))["routes"] == []


async def test_valid_rules_are_saved_and_served(client: httpx.AsyncClient, auth: Auth) -> None:
    saved = await _put(client, auth, RULES, SAVED_RULES)
    assert (saved["default_model"], saved["routes"], saved["prices"]) == ("local", [ROUTE], PRICES)
    served = await _get(client, RULES, auth("viewer", "tenant-b"))
    assert (served["default_model"], served["routes"], served["prices"]) == ("local", [ROUTE], PRICES)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"routes": [{**ROUTE, "match": "(invoice"}]}, "routes[0].match"),
        ({"routes": [{**ROUTE, "model": "foo/bar"}]}, "routes[0].model"),
        ({"default_model": "foo/bar"}, "default_model"),
        (
            {"prices": {"openai/gpt-4o-mini": {"input_per_mtok": -1, "output_per_mtok": 0.6}}},
            "prices['openai/gpt-4o-mini'].input_per_mtok",
        ),
        ({"routes": [{**ROUTE, "max_tokens": "200"}]}, "routes[0].max_tokens"),
        ({"routes": [{**ROUTE, "max_tokens": 1.5}]}, "routes[0].max_tokens"),
    ],
)
async def test_invalid_rules_are_refused_and_the_previous_ones_kept(
    client: httpx.AsyncClient, auth: Auth, bad: dict[str, Any], field: str
) -> None:
    await _put(client, auth, RULES, SAVED_RULES)
    body = await _put(client, auth, RULES, {**SAVED_RULES, **bad}, status=422)
    assert body["code"] == "INVALID_RULES" and field in body["error"], body
    if "foo/bar" in str(bad):
        assert "unknown provider 'foo'" in body["error"], body
    kept = await _get(client, RULES, auth("viewer"))
    assert (kept["default_model"], kept["routes"], kept["prices"]) == ("local", [ROUTE], PRICES)


# --- budgets -------------------------------------------------------------------------------------


async def test_default_budgets_have_no_caps(client: httpx.AsyncClient, auth: Auth) -> None:
    budgets = await _get(client, BUDGETS, auth("viewer"))
    assert (budgets["global_daily_cost_cap_usd"], budgets["tenants"], budgets["agents"]) == (None, {}, {})
    assert budgets["spend"]["tenants"] == {"tenant-a": {"day": 0.0, "month": 0.0}}
    assert (await _get(client, BUDGETS, auth("admin", None)))["spend"]["global_day"] == 0.0


async def test_budgets_are_saved_with_spend_and_scoped_by_tenant(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    saved = await _put(client, auth, BUDGETS, SAVED_BUDGETS)
    assert saved["global_daily_cost_cap_usd"] == 5
    assert saved["tenants"]["tenant-a"] == {"daily_cost_cap_usd": 1, "monthly_cost_cap_usd": 10}
    assert saved["agents"] == {
        "tenant-a": {"mailer": {"daily_cost_cap_usd": 0.5, "monthly_cost_cap_usd": None}}
    }
    spend = saved["spend"]
    assert spend["tenants"]["tenant-a"] == {"day": 0.0, "month": 0.0}
    assert (
        spend["agents"] == {"tenant-a": {"mailer": {"day": 0.0, "month": 0.0}}} and spend["global_day"] == 0.0
    )
    assert await _get(client, BUDGETS, auth("admin", None)) == saved

    refused = await client.put(BUDGETS, json={"global_daily_cost_cap_usd": 0}, headers=auth("operator"))
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_FORBIDDEN", refused.text
    assert (await _get(client, BUDGETS, auth("viewer")))["global_daily_cost_cap_usd"] == 5

    mine = await _get(client, BUDGETS, auth("viewer", "tenant-a"))
    assert set(mine["tenants"]) == {"tenant-a"} and mine["agents"] == saved["agents"]
    assert "global_day" not in mine["spend"]
    other = await _get(client, BUDGETS, auth("viewer", "tenant-b"))
    assert other["tenants"] == {} and other["agents"] == {}, other
    assert set(other["spend"]["tenants"]) == {"tenant-b"} and other["spend"]["agents"] == {}, other
    assert "global_day" not in other["spend"], other


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"global_daily_cost_cap_usd": -1}, "global_daily_cost_cap_usd"),
        ({"tenants": {"tenant-a": {"daily_cost_cap_usd": -0.5}}}, "tenants.tenant-a.daily_cost_cap_usd"),
        (
            {"agents": {"tenant-a": {"mailer": {"monthly_cost_cap_usd": -2}}}},
            "agents.tenant-a.mailer.monthly_cost_cap_usd",
        ),
        ({"agents": {"mailer": {"daily_cost_cap_usd": 1}}}, "agents.mailer: agent caps are keyed by tenant"),
        ({"weekly_cost_cap_usd": 3}, "weekly_cost_cap_usd"),
        ({"tenants": {"tenant-a": {"hourly_cost_cap_usd": 1}}}, "tenants.tenant-a.hourly_cost_cap_usd"),
    ],
)
async def test_invalid_budgets_are_refused_and_the_previous_ones_kept(
    client: httpx.AsyncClient, auth: Auth, bad: dict[str, Any], field: str
) -> None:
    await _put(client, auth, BUDGETS, SAVED_BUDGETS)
    body = await _put(client, auth, BUDGETS, {**SAVED_BUDGETS, **bad}, status=422)
    assert body["code"] == "INVALID_BUDGETS" and field in body["error"], body
    kept = await _get(client, BUDGETS, auth("admin", None))
    assert kept["global_daily_cost_cap_usd"] == 5 and kept["tenants"]["tenant-a"]["daily_cost_cap_usd"] == 1


async def test_an_infinite_cap_is_refused(client: httpx.AsyncClient, auth: Auth) -> None:
    body = '{"tenants": {"tenant-a": {"daily_cost_cap_usd": 1e400}}}'  # JSON's 1e400 reads as infinity
    headers = {**auth("admin", None), "Content-Type": "application/json"}
    response = await client.put(BUDGETS, content=body, headers=headers)
    # The input gate refuses it before the budgets are read (never a 500, nothing stored).
    assert response.status_code == 422 and response.json()["code"] == "VALIDATION_ERROR", response.text
    assert "1e400" in response.json()["error"]
    stored = await client.get(BUDGETS, headers=auth("admin", None))
    assert "tenant-a" not in stored.json()["tenants"]


async def test_a_zero_cap_allows_free_calls_and_refuses_priced_ones(
    routed: tuple[FastAPI, httpx.AsyncClient], auth: Auth
) -> None:
    # A configured provider (the fake OpenAI server): a call no provider can take is free (local).
    _, client = routed
    await running_agent(client, auth(), "mailer")
    await _put(client, auth, BUDGETS, {"tenants": {"tenant-a": {"daily_cost_cap_usd": 0}}})
    free = await _message(client, auth, "mailer", "hello there")
    assert free.status_code == 200, f"a local call costs 0 and 0 + 0 is not over a cap of 0: {free.text}"

    prices = {"openai/x": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}
    route = {"match": "invoice", "model": "openai/x", "max_tokens": 100}
    await _put(client, auth, RULES, {"default_model": "local", "routes": [route], "prices": prices})
    refused = await _message(client, auth, "mailer", "please pay this invoice")
    assert refused.status_code == 402, refused.text
    body = refused.json()
    assert body["code"] == "BUDGET_EXCEEDED" and "tenant daily" in body["error"], body

    runs = (await _get(client, "/orchestrator/runs", auth(), agent_id="mailer"))["runs"]
    (failed,) = [r for r in runs if "invoice" in r["input"]]
    assert failed["status"] == "failed", failed
    detail = await get_run(client, auth(), failed["run_id"])
    assert "BUDGET_EXCEEDED" in event_names(detail), event_names(detail)
    (event,) = [s for s in detail["steps"] if s["name"] == "BUDGET_EXCEEDED"]
    assert event["payload"]["cap"] == "tenant_daily" and event["payload"]["limit"] == 0

    rows = await _usage(client, auth("admin", None))
    assert not [r for r in rows if r["model"] == "openai/x"], f"the refused call left ledger rows: {rows}"
    assert [(r["model"], r["status"]) for r in rows] == [("local", "ok")]
    assert (await _message(client, auth, "mailer", "hello again")).status_code == 200


# --- usage ledger --------------------------------------------------------------------------------


async def test_usage_rows_are_scoped_to_the_callers_tenant(client: httpx.AsyncClient, auth: Auth) -> None:
    run_ids = await _five_messages(client, auth)
    rows = await _usage(client, auth("viewer", "tenant-a"))
    assert len(rows) == 3, rows
    assert {r["run_id"] for r in rows} == set(run_ids["tenant-a"])
    for row in rows:
        assert (row["tenant_id"], row["agent_id"], row["model"], row["status"]) == (
            "tenant-a",
            "alpha",
            "local",
            "ok",
        )
        assert row["tokens"] > 0 and row["tokens"] == row["prompt_tokens"] + row["completion_tokens"], row
        assert row["cost"] == 0.0 and row["error"] is None, row
    assert len(await _usage(client, auth("viewer", "tenant-a"), tenant_id="tenant-a")) == 3
    other = await client.get(USAGE, params={"tenant_id": "tenant-b"}, headers=auth("viewer", "tenant-a"))
    assert other.status_code == 403, other.text
    assert {r["run_id"] for r in await _usage(client, auth("viewer", "tenant-b"))} == set(run_ids["tenant-b"])


async def test_platform_admin_sees_and_filters_all_usage(client: httpx.AsyncClient, auth: Auth) -> None:
    run_ids = await _five_messages(client, auth)
    admin = auth("admin", None)
    every = await _usage(client, admin)
    assert [r["run_id"] for r in every] == run_ids["tenant-a"] + run_ids["tenant-b"], (
        "oldest first, newest last"
    )
    assert [r["id"] for r in every] == sorted(r["id"] for r in every)
    assert {r["run_id"] for r in await _usage(client, admin, tenant_id="tenant-b")} == set(
        run_ids["tenant-b"]
    )
    assert {r["agent_id"] for r in await _usage(client, admin, agent_id="alpha")} == {"alpha"}
    assert len(await _usage(client, admin, agent_id="alpha")) == 3
    assert await _usage(client, admin, agent_id="alpha", tenant_id="tenant-b") == []
    assert await _usage(client, admin, limit=2) == every[-2:], "limit keeps the newest, newest last"
    assert (await client.get(USAGE, params={"limit": 0}, headers=admin)).status_code == 422


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def _plus5(moment: datetime) -> str:
    return moment.astimezone(timezone(timedelta(hours=5))).isoformat()


async def test_usage_time_range_accepts_naive_and_aware_times(client: httpx.AsyncClient, auth: Auth) -> None:
    await _five_messages(client, auth)
    admin = auth("admin", None)
    every = await _usage(client, admin)
    now = datetime.now(UTC)
    future, past = now + timedelta(hours=1), now - timedelta(hours=1)
    for fmt in (_naive, _plus5, datetime.isoformat):
        assert await _usage(client, admin, **{"from": fmt(future)}) == [], fmt
        assert await _usage(client, admin, **{"from": fmt(past)}) == every, fmt
        assert await _usage(client, admin, to=fmt(past)) == [], fmt
        assert await _usage(client, admin, to=fmt(future)) == every, fmt
    third, fifth = (datetime.fromisoformat(every[i]["created_at"]) for i in (2, 4))
    for fmt in (_naive, _plus5):
        window = await _usage(client, admin, **{"from": fmt(third), "to": fmt(fifth)})
        assert window == every[2:4], (fmt, "from is inclusive, to exclusive", window)
    bad = await client.get(USAGE, params={"from": "yesterday"}, headers=admin)
    assert bad.status_code == 422, bad.text


# --- metrics -------------------------------------------------------------------------------------


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


async def test_metrics_count_the_callers_tenant(client: httpx.AsyncClient, auth: Auth) -> None:
    await _five_messages(client, auth)
    today = datetime.now(UTC).date().isoformat()
    tokens = {
        t: sum(r["tokens"] for r in await _usage(client, auth("viewer", t))) for t in ("tenant-a", "tenant-b")
    }
    for tenant, requests, agent in (("tenant-a", 3, "alpha"), ("tenant-b", 2, "beta")):
        metrics = await _get(client, METRICS, auth("viewer", tenant))
        totals = metrics["totals"]
        assert (totals["requests"], totals["errors"], totals["error_rate"], totals["cost"]) == (
            requests,
            0,
            0.0,
            0.0,
        )
        assert totals["tokens"] == tokens[tenant] > 0, (tenant, totals)
        assert _by(metrics["per_model"], "model")["local"]["requests"] == requests
        assert set(_by(metrics["per_model"], "model")) == {"local"}
        assert _by(metrics["per_day"], "day")[today]["requests"] == requests, metrics["per_day"]
        assert set(_by(metrics["per_tenant"], "key")) == {tenant}, metrics["per_tenant"]
        assert set(_by(metrics["per_agent"], "key")) == {agent}, metrics["per_agent"]
    everything = await _get(client, METRICS, auth("admin", None))
    assert everything["totals"]["requests"] == 5 and everything["totals"]["tokens"] == sum(tokens.values())
    assert {k: v["requests"] for k, v in _by(everything["per_tenant"], "key").items()} == {
        "tenant-a": 3,
        "tenant-b": 2,
    }
    assert _by(everything["per_day"], "day")[today]["requests"] == 5


async def test_a_tenant_admin_changes_only_its_own_caps_and_never_the_rules(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _put(client, auth, BUDGETS, {
        **SAVED_BUDGETS,
        "tenants": {**SAVED_BUDGETS["tenants"], "tenant-b": {"daily_cost_cap_usd": 2}},
        "agents": {**SAVED_BUDGETS["agents"], "tenant-b": {"bravo": {"daily_cost_cap_usd": 0.2}}},
    })  # fmt: skip
    tenant_admin = auth("admin", "tenant-a")
    seen = await _get(client, BUDGETS, tenant_admin)
    mailer = {"daily_cost_cap_usd": 0.5, "monthly_cost_cap_usd": None}
    assert set(seen["tenants"]) == {"tenant-a"} and seen["agents"] == {"tenant-a": {"mailer": mailer}}

    # Saving what it sees, edited, leaves tenant-b's caps alone.
    edited = {
        **seen,
        "tenants": {"tenant-a": {"daily_cost_cap_usd": 3}},
        "agents": {"tenant-a": {"helper": {"daily_cost_cap_usd": 1}}},
    }
    edited.pop("spend")
    response = await client.put(BUDGETS, json=edited, headers=tenant_admin)
    assert response.status_code == 200, response.text
    everything = await _get(client, BUDGETS, auth("admin", None))
    assert everything["tenants"] == {"tenant-a": {"daily_cost_cap_usd": 3, "monthly_cost_cap_usd": None},
                                     "tenant-b": {"daily_cost_cap_usd": 2, "monthly_cost_cap_usd": None}}  # fmt: skip
    assert everything["agents"]["tenant-b"]["bravo"]["daily_cost_cap_usd"] == 0.2
    assert everything["agents"]["tenant-a"] == {
        "helper": {"daily_cost_cap_usd": 1, "monthly_cost_cap_usd": None}
    }
    # it removed its own agent's cap (mailer)

    for refused in (
        {**edited, "global_daily_cost_cap_usd": 50},
        {**edited, "tenants": {"tenant-b": {"daily_cost_cap_usd": 0}}},
        {**edited, "agents": {"tenant-b": {"bravo": {"daily_cost_cap_usd": 0}}}},
        {**edited, "agents": {"x": {"tenant_id": "tenant-b", "daily_cost_cap_usd": 0}}},
    ):
        response = await client.put(BUDGETS, json=refused, headers=tenant_admin)
        assert response.status_code == 403, (refused, response.text)
    assert (await _get(client, BUDGETS, auth("admin", None)))["tenants"]["tenant-b"][
        "daily_cost_cap_usd"
    ] == 2

    response = await client.put(RULES, json=SAVED_RULES, headers=tenant_admin)
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"


async def test_a_tenant_admin_cannot_block_another_tenants_cap_on_the_same_agent_id(
    routed: tuple[FastAPI, httpx.AsyncClient], auth: Auth
) -> None:
    """Tenant A's admin caps an agent id that is tenant B's agent; B's admin still caps its own."""
    _, client = routed  # a configured provider, so that its priced calls count against the caps
    await running_agent(client, auth(tenant="tenant-b"), "shared")
    a_admin, b_admin = auth("admin", "tenant-a"), auth("admin", "tenant-b")
    # The older flat shape, as the UI sent it: the tenant comes from the token.
    first = await client.put(BUDGETS, json={"agents": {"shared": {"daily_cost_cap_usd": 0}}}, headers=a_admin)
    assert first.status_code == 200, first.text
    second = await client.put(
        BUDGETS, json={"agents": {"shared": {"daily_cost_cap_usd": 5}}}, headers=b_admin
    )
    assert second.status_code == 200, f"tenant-b could not cap its own agent: {second.text}"
    everything = await _get(client, BUDGETS, auth("admin", None))
    assert everything["agents"] == {
        "tenant-a": {"shared": {"daily_cost_cap_usd": 0, "monthly_cost_cap_usd": None}},
        "tenant-b": {"shared": {"daily_cost_cap_usd": 5, "monthly_cost_cap_usd": None}},
    }
    assert (await _get(client, BUDGETS, b_admin))["agents"] == {"tenant-b": everything["agents"]["tenant-b"]}

    prices = {"openai/x": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}
    route = {"match": "invoice", "model": "openai/x", "max_tokens": 100}
    await _put(client, auth, RULES, {"default_model": "local", "routes": [route], "prices": prices})
    paid = await _message(client, auth, "shared", "pay this invoice", tenant="tenant-b")
    assert paid.status_code == 200, f"tenant-a's cap applied to tenant-b's agent: {paid.text}"
    zero = await client.put(BUDGETS, json={"agents": {"tenant-b": {"shared": {"daily_cost_cap_usd": 0}}}},
                            headers=b_admin)  # fmt: skip
    assert zero.status_code == 200, zero.text
    refused = await _message(client, auth, "shared", "pay this invoice", tenant="tenant-b")
    assert refused.status_code == 402 and "agent daily" in refused.json()["error"], refused.text


async def test_caps_are_read_and_written_for_the_tokens_tenant_or_one_a_platform_admin_names(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _put(client, auth, BUDGETS, SAVED_BUDGETS)
    for method in ("get", "put"):
        response = await client.request(
            method, BUDGETS, params={"tenant_id": "tenant-b"}, json={}, headers=auth("admin", "tenant-a")
        )
        assert response.status_code == 403, (method, response.text)
    platform = auth("admin", None)
    named = await client.put(
        BUDGETS, params={"tenant_id": "tenant-b"}, json={"agents": {"bot": {"daily_cost_cap_usd": 1}}},
        headers=platform,
    )  # fmt: skip
    assert named.status_code == 200, named.text
    assert named.json()["agents"] == {
        "tenant-b": {"bot": {"daily_cost_cap_usd": 1, "monthly_cost_cap_usd": None}}
    }
    assert "global_day" not in named.json()["spend"]
    everything = await _get(client, BUDGETS, platform)
    assert set(everything["agents"]) == {"tenant-a", "tenant-b"}, "tenant-a's caps were kept"
    only_a = await _get(client, BUDGETS, platform, tenant_id="tenant-a")
    assert only_a["agents"] == {"tenant-a": everything["agents"]["tenant-a"]}
    assert set(only_a["tenants"]) == {"tenant-a"} and "global_day" not in only_a["spend"]
