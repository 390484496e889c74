"""Routing rules (pure): which model answers a message, and what a call to it costs.

Models are named `local` or `<provider>/<model>`. Routes are tried in order; the first whose regex
(case-insensitive) is found in the message wins, else `default_model` answers.

Money: prices are read as the decimal numbers they were written as and costs are computed with
`Decimal`, then rounded to 1e-9 USD. `estimate_cost` rounds half-even; `max_cost` rounds up, so
the worst case a budget reserves is never below what the same call can be charged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic_core import ErrorDetails

from talkative.errors import InvalidInput

LOCAL = "local"
DEFAULT_MAX_TOKENS = 1024
MAX_ROUTE_TOKENS = 200_000
MAX_ROUTES = 200
MAX_PRICES = 500
MAX_REGEX_CHARS = 500
MAX_MODEL_CHARS = 100
MAX_PRICE_PER_MTOK = 1_000_000.0
# Routes look at the head of a message only: a pasted document cannot make matching slow.
MAX_MATCH_CHARS = 20_000
_REPORTED_ERRORS = 3

_PROVIDER = r"[a-z][a-z0-9_-]{0,31}"
# Slashes are allowed inside the model part: OpenAI-compatible servers name models "org/name".
_MODEL_PART = r"[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*"
_MODEL_NAME = re.compile(rf"(?P<provider>{_PROVIDER})/(?P<model>{_MODEL_PART})")
_NANO = Decimal("1e-9")
_PER_MTOK = Decimal(1_000_000)


def _check_model_name(name: str, info: ValidationInfo) -> str:
    if name == LOCAL:
        return name
    if name.startswith(f"{LOCAL}/"):
        raise ValueError(f"'{LOCAL}' takes no model part; write '{LOCAL}'")
    match = _MODEL_NAME.fullmatch(name)
    if match is None:
        raise ValueError(
            f"must be '{LOCAL}' or '<provider>/<model>' (model part: letters, digits and ._:-/ only)"
        )
    if len(match["model"]) > MAX_MODEL_CHARS:
        raise ValueError(f"model part is longer than {MAX_MODEL_CHARS} characters")
    known = (info.context or {}).get("known_providers")
    if known is not None and match["provider"] not in known:
        raise ValueError(f"unknown provider '{match['provider']}' (known: {', '.join(sorted(known))})")
    return name


def _check_regex(pattern: str) -> str:
    try:
        _compiled(pattern)
    except re.error as exc:
        raise ValueError(f"bad regex: {exc.msg}") from None
    return pattern


ModelName = Annotated[str, AfterValidator(_check_model_name)]
Regex = Annotated[str, Field(min_length=1, max_length=MAX_REGEX_CHARS), AfterValidator(_check_regex)]
UsdPerMtok = Annotated[float, Field(strict=True, ge=0, le=MAX_PRICE_PER_MTOK, allow_inf_nan=False)]


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Regex
    model: ModelName
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, strict=True, ge=1, le=MAX_ROUTE_TOKENS)


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_mtok: UsdPerMtok
    output_per_mtok: UsdPerMtok


class Rules(BaseModel):
    """Provider names are checked only when validated with `known_providers` (see `validate_rules`):
    rules are checked against the providers when saved, not when read back, so a provider that is
    gone since (or not configured) makes its routes fall back to local instead of breaking reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_model: ModelName = LOCAL
    routes: list[Route] = Field(default_factory=list, max_length=MAX_ROUTES)
    prices: dict[ModelName, Price] = Field(default_factory=dict, max_length=MAX_PRICES)


class RulesInvalid(InvalidInput):
    """Rules that cannot be used; the message names each failing field (`routes[1].match: ...`)."""

    code = "INVALID_RULES"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        shown = [f"{where}: {what}" for where, what in errors[:_REPORTED_ERRORS]]
        more = len(errors) - len(shown)
        super().__init__("; ".join(shown) + (f" (and {more} more)" if more > 0 else ""))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Selection:
    model: str
    max_tokens: int
    route_index: int | None  # None: no route matched, the default model answers


def validate_rules(data: Mapping[str, Any], *, known_providers: set[str] | None) -> Rules:
    """`data` as `Rules`, or `RulesInvalid` naming every failing field (the first few in the message).

    `known_providers=None` leaves provider names unchecked (rules read back from storage)."""
    if not isinstance(data, Mapping):
        raise RulesInvalid([("rules", "must be an object")])
    # `updated_at` is bookkeeping written next to the rules (legacy files, GET answers), not a rule.
    doc = {k: v for k, v in data.items() if k != "updated_at"}
    try:
        known = None if known_providers is None else frozenset(known_providers)
        rules = Rules.model_validate(doc, context={"known_providers": known})
    except ValidationError as exc:
        raise RulesInvalid([(_where(e["loc"]), _what(e)) for e in exc.errors()]) from None
    if LOCAL in rules.prices:
        raise RulesInvalid([(f"prices['{LOCAL}']", "local calls cost nothing; remove this price")])
    return rules


def falls_back(rules: Rules, available: set[str]) -> list[str]:
    """The models the rules route to whose provider is not in `available`: local answers for them."""
    named = [rules.default_model, *(route.model for route in rules.routes)]
    return sorted(
        {m for m in named if m != LOCAL and m.partition("/")[0] not in available},
    )


def select_route(rules: Rules, message: str) -> Selection:
    """The first route whose regex is found in the message, else the default model."""
    head = message[:MAX_MATCH_CHARS]
    for index, route in enumerate(rules.routes):
        if _compiled(route.match).search(head):
            return Selection(route.model, route.max_tokens, index)
    return Selection(rules.default_model, DEFAULT_MAX_TOKENS, None)


def estimate_cost(
    prices: Mapping[str, Price], model: str, prompt_tokens: int, completion_tokens: int
) -> float:
    """USD for a call's tokens, rounded half-even to 1e-9; a model without a price costs 0."""
    return _cost(prices, model, prompt_tokens, completion_tokens, ROUND_HALF_EVEN)


def max_cost(prices: Mapping[str, Price], model: str, prompt_tokens: int, max_tokens: int) -> float:
    """The most a call can cost (completion = `max_tokens`), rounded up to 1e-9: what budgets hold."""
    return _cost(prices, model, prompt_tokens, max_tokens, ROUND_CEILING)


def _cost(prices: Mapping[str, Price], model: str, prompt: int, completion: int, rounding: str) -> float:
    if prompt < 0 or completion < 0:
        raise ValueError("token counts must be >= 0")
    price = prices.get(model)
    if price is None:
        return 0.0
    usd = (prompt * _decimal(price.input_per_mtok) + completion * _decimal(price.output_per_mtok)) / _PER_MTOK
    return float(usd.quantize(_NANO, rounding=rounding))


def _decimal(value: float) -> Decimal:
    # repr() is the shortest text that reads back as this float: 0.15 stays 0.15, not 0.1499999...
    return Decimal(repr(value))


@functools.lru_cache(maxsize=2 * MAX_ROUTES)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _where(loc: tuple[int | str, ...]) -> str:
    """('routes', 1, 'match') -> "routes[1].match"; ('prices', 'a/b', 'x') -> "prices['a/b'].x"."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":  # pydantic's marker for "the key itself is invalid"
            continue
        elif i > 0 and loc[i - 1] == "prices":
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out or "rules"


def _what(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    fixed = {
        "missing": "is required",
        "extra_forbidden": "unknown field",
        "int_type": "must be an integer",
        "float_type": "must be a number",
        "finite_number": "must be a finite number",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "dict_type": "must be an object",
        "model_type": "must be an object",
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in ("greater_than_equal", "less_than_equal"):
        op, bound = (">=", ctx["ge"]) if kind == "greater_than_equal" else ("<=", ctx["le"])
        return f"must be {op} {_number(bound)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} entries"
    msg = str(error["msg"])
    return msg[:1].lower() + msg[1:]


def _number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
