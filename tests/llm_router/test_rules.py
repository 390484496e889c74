"""Routing rules: validation that names the field, route selection, cost math."""

from __future__ import annotations

from typing import Any

import pytest

from talkative.errors import InvalidInput
from talkative.llm_router.rules import (
    DEFAULT_MAX_TOKENS,
    Price,
    Route,
    Rules,
    RulesInvalid,
    Selection,
    estimate_cost,
    falls_back,
    max_cost,
    select_route,
    validate_rules,
)

KNOWN = {"local", "openai"}
MINI = "openai/gpt-4o-mini"
PRICES = {MINI: Price(input_per_mtok=0.15, output_per_mtok=0.60)}


def _route(**overrides: Any) -> dict[str, Any]:
    return {"match": "invoice", "model": MINI, "max_tokens": 256, **overrides}


def _price(**overrides: Any) -> dict[str, Any]:
    return {"input_per_mtok": 0.15, "output_per_mtok": 0.6, **overrides}


INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "bad regex",
        {"routes": [_route(), _route(match="a)b")]},
        "routes[1].match: bad regex: unbalanced parenthesis",
    ),
    (
        "unterminated group",
        {"routes": [_route(match="(ab")]},
        "routes[0].match: bad regex: missing ), unterminated",
    ),
    ("empty regex", {"routes": [_route(match="")]}, "routes[0].match: must not be empty"),
    ("long regex", {"routes": [_route(match="a" * 501)]}, "routes[0].match: must be at most 500 characters"),
    ("missing match", {"routes": [{"model": MINI}]}, "routes[0].match: is required"),
    (
        "unknown provider",
        {"routes": [_route(model="foo/bar")]},
        "routes[0].model: unknown provider 'foo' (known: local, openai)",
    ),
    (
        "no model part",
        {"routes": [_route(model="openai/")]},
        "routes[0].model: must be 'local' or '<provider>/<model>'",
    ),
    ("bad model chars", {"routes": [_route(model="openai/gpt 4")]}, "routes[0].model: must be 'local' or"),
    (
        "local with a model",
        {"routes": [_route(model="local/x")]},
        "routes[0].model: 'local' takes no model part",
    ),
    (
        "long model part",
        {"routes": [_route(model="openai/" + "m" * 101)]},
        "routes[0].model: model part is longer",
    ),
    ("zero max_tokens", {"routes": [_route(max_tokens=0)]}, "routes[0].max_tokens: must be >= 1"),
    ("huge max_tokens", {"routes": [_route(max_tokens=200_001)]}, "routes[0].max_tokens: must be <= 200000"),
    ("bool max_tokens", {"routes": [_route(max_tokens=True)]}, "routes[0].max_tokens: must be an integer"),
    ("text max_tokens", {"routes": [_route(max_tokens="12")]}, "routes[0].max_tokens: must be an integer"),
    ("extra route field", {"routes": [_route(prio=1)]}, "routes[0].prio: unknown field"),
    ("too many routes", {"routes": [_route()] * 201}, "routes: must have at most 200 entries"),
    ("routes not a list", {"routes": "invoice"}, "routes: must be a list"),
    ("default model", {"default_model": "gpt-4o"}, "default_model: must be 'local' or '<provider>/<model>'"),
    ("default provider", {"default_model": "acme/x"}, "default_model: unknown provider 'acme'"),
    (
        "negative input price",
        {"prices": {MINI: _price(input_per_mtok=-1)}},
        f"prices['{MINI}'].input_per_mtok: must be >= 0",
    ),
    (
        "negative output price",
        {"prices": {MINI: _price(output_per_mtok=-0.01)}},
        f"prices['{MINI}'].output_per_mtok: must be >= 0",
    ),
    (
        "infinite price",
        {"prices": {MINI: _price(input_per_mtok=float("inf"))}},
        f"prices['{MINI}'].input_per_mtok: must be a finite number",
    ),
    (
        "absurd price",
        {"prices": {MINI: _price(output_per_mtok=1e9)}},
        f"prices['{MINI}'].output_per_mtok: must be <= 1000000",
    ),
    (
        "text price",
        {"prices": {MINI: _price(input_per_mtok="0.1")}},
        f"prices['{MINI}'].input_per_mtok: must be a number",
    ),
    (
        "missing price",
        {"prices": {MINI: {"input_per_mtok": 1}}},
        f"prices['{MINI}'].output_per_mtok: is required",
    ),
    ("price of unknown provider", {"prices": {"foo/x": _price()}}, "prices['foo/x']: unknown provider 'foo'"),
    ("price of a bad name", {"prices": {"gpt-4o": _price()}}, "prices['gpt-4o']: must be 'local' or"),
    ("price of local", {"prices": {"local": _price()}}, "prices['local']: local calls cost nothing"),
    ("unknown top-level field", {"rutes": []}, "rutes: unknown field"),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_rules_name_the_field(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(RulesInvalid) as caught:
        validate_rules(data, known_providers=KNOWN)
    assert caught.value.message.startswith(expected), caught.value.message
    assert isinstance(caught.value, InvalidInput)
    assert (caught.value.status, caught.value.code) == (422, "INVALID_RULES")


def test_not_an_object_is_refused() -> None:
    with pytest.raises(RulesInvalid, match=r"^rules: must be an object$"):
        validate_rules([], known_providers=KNOWN)  # type: ignore[arg-type]


def test_every_error_is_listed_and_the_message_shows_the_first_three() -> None:
    data = {"routes": [_route(match="("), _route(model="x/y"), _route(max_tokens=0), _route(match="[")]}
    with pytest.raises(RulesInvalid) as caught:
        validate_rules(data, known_providers=KNOWN)
    assert [where for where, _ in caught.value.errors] == [
        "routes[0].match",
        "routes[1].model",
        "routes[2].max_tokens",
        "routes[3].match",
    ]
    assert caught.value.message.endswith("(and 1 more)")
    assert caught.value.message.count("; ") == 2


def test_providers_are_checked_against_the_known_ones() -> None:
    data = {"default_model": MINI}
    assert validate_rules(data, known_providers=KNOWN).default_model == MINI
    with pytest.raises(RulesInvalid, match=r"default_model: unknown provider 'openai' \(known: local\)"):
        validate_rules(data, known_providers={"local"})


def test_stored_rules_are_read_without_checking_providers() -> None:
    data = {"default_model": "acme/big", "routes": [_route()]}
    rules = validate_rules(data, known_providers=None)
    assert (rules.default_model, rules.routes[0].model) == ("acme/big", MINI)
    with pytest.raises(RulesInvalid, match=r"default_model: unknown provider 'acme'"):
        validate_rules(data, known_providers=KNOWN)


@pytest.mark.parametrize(
    ("default", "models", "available", "expected"),
    [
        ("local", [], set(), []),
        ("local", [MINI, "local"], {"local", "openai"}, []),
        ("local", [MINI, MINI], {"local"}, [MINI]),
        ("acme/big", [MINI], {"local"}, ["acme/big", MINI]),
        ("acme/big", [MINI], {"local", "openai"}, ["acme/big"]),
    ],
)
def test_models_whose_provider_is_missing_fall_back(
    default: str, models: list[str], available: set[str], expected: list[str]
) -> None:
    rules = Rules(default_model=default, routes=[Route(match="x", model=m) for m in models])
    assert falls_back(rules, available) == expected


def test_valid_rules_round_trip() -> None:
    data = {
        "default_model": "local",
        "routes": [
            {"match": r"\binvoices?\b", "model": MINI, "max_tokens": 256},
            {"match": "summar(y|ise)", "model": "openai/meta-llama/Llama-3.1-8B:q4", "max_tokens": 2048},
        ],
        "prices": {MINI: {"input_per_mtok": 0.15, "output_per_mtok": 0.6}},
    }
    rules = validate_rules(data, known_providers=KNOWN)
    assert rules.model_dump(mode="json") == data
    assert validate_rules(rules.model_dump(mode="json"), known_providers=KNOWN) == rules


def test_defaults_and_bookkeeping_fields() -> None:
    rules = validate_rules({"updated_at": "2026-01-01T00:00:00Z"}, known_providers=KNOWN)
    assert rules == Rules() == Rules(default_model="local", routes=[], prices={})
    route = validate_rules({"routes": [{"match": "x", "model": "local"}]}, known_providers=KNOWN).routes[0]
    assert route.max_tokens == DEFAULT_MAX_TOKENS


def test_constructed_rules_still_refuse_a_bad_regex() -> None:
    with pytest.raises(ValueError, match="bad regex"):
        Route(match="(", model="local")


def test_first_matching_route_wins() -> None:
    rules = Rules(
        routes=[
            Route(match="refund", model="openai/a", max_tokens=10),
            Route(match="invoice", model="openai/b", max_tokens=20),
            Route(match="invoice|refund", model="openai/c", max_tokens=30),
        ]
    )
    assert select_route(rules, "send the invoice") == Selection("openai/b", 20, 1)
    assert select_route(rules, "refund the invoice") == Selection("openai/a", 10, 0)
    chosen = select_route(rules, "hello")
    assert (chosen.model, chosen.max_tokens, chosen.route_index) == ("local", DEFAULT_MAX_TOKENS, None)


def test_routes_match_case_insensitively_anywhere_in_the_message() -> None:
    rules = Rules(routes=[Route(match="Invoice", model="openai/b")], default_model="openai/default")
    assert select_route(rules, "PAY THE INVOICE NOW").route_index == 0
    assert select_route(rules, "pay the invoice").route_index == 0
    assert select_route(rules, "pay the bill").model == "openai/default"
    anchored = Rules(routes=[Route(match="^urgent", model="openai/b")])
    assert select_route(anchored, "Urgent: call bob").route_index == 0
    assert select_route(anchored, "not urgent").route_index is None


def test_cost_of_a_call() -> None:
    # 1000 * 0.15 / 1e6 + 500 * 0.60 / 1e6
    assert estimate_cost(PRICES, MINI, 1000, 500) == 0.00045
    assert estimate_cost(PRICES, MINI, 0, 0) == 0.0
    assert estimate_cost(PRICES, "openai/unpriced", 10**6, 10**6) == 0.0
    assert estimate_cost(PRICES, "local", 10**6, 10**6) == 0.0


def test_cost_is_exact_decimal_math_rounded_to_nano_dollars() -> None:
    tenth = {MINI: Price(input_per_mtok=0.1, output_per_mtok=0.2)}
    assert estimate_cost(tenth, MINI, 3, 0) == 3e-7  # float math gives 3.0000000000000004e-07
    assert estimate_cost(tenth, MINI, 1, 1) == 3e-7
    # prices are read as written: 0.1 is not 0.1000000000000000055..., which would round up here
    assert max_cost(tenth, MINI, 10, 0) == 1e-6
    tiny = {MINI: Price(input_per_mtok=0.0001, output_per_mtok=0.0001)}
    assert estimate_cost(tiny, MINI, 4, 0) == 0.0  # 4e-10 rounds half-even to 0
    assert max_cost(tiny, MINI, 4, 0) == 1e-9  # the worst case rounds up


def test_max_cost_is_the_worst_case_with_max_tokens() -> None:
    assert max_cost(PRICES, MINI, 1000, 1024) == pytest.approx((1000 * 0.15 + 1024 * 0.6) / 1e6, abs=1e-12)
    for completion in (0, 1, 500, 1024):
        assert estimate_cost(PRICES, MINI, 777, completion) <= max_cost(PRICES, MINI, 777, 1024)
    assert max_cost(PRICES, "openai/unpriced", 1000, 1024) == 0.0


def test_negative_token_counts_are_a_bug() -> None:
    with pytest.raises(ValueError, match="token counts"):
        estimate_cost(PRICES, MINI, -1, 0)
    with pytest.raises(ValueError, match="token counts"):
        max_cost(PRICES, MINI, 0, -1)
