"""Every model call goes through here: pick the model, hold the budget, call, record what it cost."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.errors import TalkativeError
from talkative.llm_router import config, ledger
from talkative.llm_router.budgets import Breach, cap_scope, first_breach
from talkative.llm_router.models import UsageRow
from talkative.llm_router.providers.base import Completion, CompletionRequest, Provider, ProviderError
from talkative.llm_router.rules import Rules, Selection, estimate_cost, max_cost, select_route
from talkative.observability import tracing
from talkative.observability.metrics import ROUTER_COST, ROUTER_LATENCY_MS, ROUTER_OVER_HOLD, ROUTER_TOKENS

LOCAL = "local"
_log = logging.getLogger(__name__)


class BudgetExceeded(TalkativeError):
    status, code = 402, "BUDGET_EXCEEDED"

    def __init__(self, breach: Breach, worst_case: float) -> None:
        super().__init__(breach.describe(worst_case))
        self.breach = breach


@dataclass
class Call:
    """A model call decided inside the run's opening transaction, held (if remote) in its own."""

    selection: Selection
    provider: str
    model: str  # the part after the provider
    request: CompletionRequest
    rules: Rules
    worst_case: float = 0.0  # what the hold counts against the caps (0: the call is free)
    reservation: UsageRow | None = None

    @property
    def is_local(self) -> bool:
        return self.provider == LOCAL


def split_model(name: str) -> tuple[str, str]:
    provider, _, model = name.partition("/")
    return (LOCAL, "") if provider == LOCAL else (provider, model)


async def decide(
    session: AsyncSession,
    *,
    providers: dict[str, Provider],
    message: str,
    prompt: str,
    skills: list[tuple[str, str]],
) -> Call:
    """Chooses the model by the rules and the most its call can cost; writes and locks nothing.

    The worst case is what the provider can bill for the request exactly as it will be sent (its
    input bound, see `Provider.input_bound`) plus `max_tokens` of output. A remote call is then
    held with `hold`, in a transaction of its own.
    """
    rules = await config.rules(session)
    selection = select_route(rules, message)
    provider, model = split_model(selection.model)
    request = CompletionRequest(
        model=model, prompt=prompt, message=message, skills=skills, max_tokens=selection.max_tokens
    )
    chosen = providers.get(provider)
    if chosen is None or not chosen.configured():
        # Never sent (`complete` falls back to local at once): nothing to hold, no cap to refuse it.
        worst = 0.0
    else:
        worst = max_cost(rules.prices, selection.model, chosen.input_bound(request), selection.max_tokens)
    return Call(selection, provider, model, request, rules, worst_case=worst)


async def hold(
    session: AsyncSession, call: Call, *, tenant_id: str, agent_id: str | None, run_id: str | None
) -> None:
    """Holds a remote call's worst case against the caps in force (402 if one would be passed).

    Run it in a short transaction of its own that commits before the call is sent: the budget
    locks (PostgreSQL) are held for the check and the hold's two writes only, never across the
    run's opening or the call. A free call (unpriced) and a priced one under no cap take no
    exclusive lock: only a priced call reads the caps, under the shared lock that makes a budgets
    save wait for it, and only one with a cap locks that cap's scope and reads the spend.
    """
    if call.worst_case > 0:
        await _check(session, tenant_id=tenant_id, agent_id=agent_id, worst=call.worst_case)
    call.reservation = await ledger.reserve(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        model=call.selection.model,
        worst_case=call.worst_case,
    )


async def check_spent(session: AsyncSession, *, tenant_id: str, agent_id: str | None) -> None:
    """Raises BudgetExceeded when a cap of the tenant or agent is already spent (for calls that
    report their cost only afterwards, like an MCP tool's: nothing can be held for them)."""
    await _check(session, tenant_id=tenant_id, agent_id=agent_id, worst=0.0)


async def _check(session: AsyncSession, *, tenant_id: str, agent_id: str | None, worst: float) -> None:
    """Checks `worst` against the caps in force, atomically with the hold the caller then writes."""
    await ledger.keep_caps_steady(session)
    budgets = await config.budgets(session)  # read under the lock: the caps every hold is checked by
    scope = cap_scope(budgets, tenant_id, agent_id)
    if scope is None:
        return
    await ledger.lock_scope(session, scope, tenant_id=tenant_id, agent_id=agent_id)
    spend = await ledger.spend(session, tenant_id=tenant_id, agent_id=agent_id)
    breach = first_breach(budgets, tenant_id=tenant_id, agent_id=agent_id, spend=spend, cost=worst)
    if breach is not None:
        raise BudgetExceeded(breach, worst)


async def release_run_reservations(
    session: AsyncSession, run_id: str, *, reason: str = "released: the run did not record its call"
) -> int:
    """Lets go of the run's holds still in flight; returns how many there were (0 the second time).

    For a run that will not record its call: its process failed or died between the hold and the
    record. A released hold no longer counts against any cap. If the provider did bill a call
    that was sent before the process died, the ledger cannot know it: the row says `released`.
    """
    return len(await ledger.release(session, run_id, reason=reason))


async def complete(
    providers: dict[str, Provider], call: Call
) -> tuple[Completion | None, ProviderError | None, float]:
    """Calls the chosen provider outside any transaction; never raises for provider failures."""
    started = time.perf_counter()
    provider = providers.get(call.provider)
    name = call.selection.model
    model = split_model(name)[1] or name
    # OpenTelemetry's GenAI conventions: "{operation} {model}", the provider, and the tokens.
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": call.provider,
        "gen_ai.request.model": model,
    }
    with tracing.span(f"chat {model}", kind=tracing.SpanKind.CLIENT, attributes=attributes) as span:
        try:
            if provider is None or not provider.configured():
                raise ProviderError(
                    "not_configured", f"provider '{call.provider}' is not configured; used local"
                )
            result = await provider.complete(call.request)
        except ProviderError as exc:
            tracing.failed(span, exc.kind)  # the kind only: a provider's message may quote a key
            return None, exc, (time.perf_counter() - started) * 1000
        span.set_attribute("gen_ai.usage.input_tokens", result.prompt_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", result.completion_tokens)
        cost = (
            0.0
            if call.is_local
            else estimate_cost(call.rules.prices, name, result.prompt_tokens, result.completion_tokens)
        )
        span.set_attribute("talkative.cost_usd", cost)
    return result, None, (time.perf_counter() - started) * 1000


async def record(
    session: AsyncSession,
    *,
    call: Call,
    tenant_id: str,
    agent_id: str | None,
    run_id: str | None,
    completion: Completion,
    error: ProviderError | None,
    latency_ms: float,
) -> list[UsageRow]:
    """The ledger rows of a finished call: the provider's (ok or error), and the local fallback's."""
    rows: list[UsageRow] = []
    name = call.selection.model
    if not call.is_local:
        assert call.reservation is not None
        # Read again, locked: a release may have let go of the hold meanwhile (settle counts that).
        reservation = await session.get(
            UsageRow, call.reservation.id, with_for_update=True, populate_existing=True
        )
        assert reservation is not None, f"the hold of run {run_id} is gone from the ledger"
        if error is None:
            cost = estimate_cost(
                call.rules.prices, name, completion.prompt_tokens, completion.completion_tokens
            )
            if cost > reservation.cost:
                # The bound held was below the bill: record what was billed, and say so.
                ROUTER_OVER_HOLD.labels(name).inc()
                _log.warning(
                    "router: %s billed $%.9f for a call held at $%.9f (%d prompt, %d completion tokens)",
                    name,
                    cost,
                    reservation.cost,
                    completion.prompt_tokens,
                    completion.completion_tokens,
                )
            rows.append(
                await ledger.settle(
                    session,
                    reservation,
                    status="ok",
                    prompt_tokens=completion.prompt_tokens,
                    completion_tokens=completion.completion_tokens,
                    cost=cost,
                    latency_ms=latency_ms,
                )
            )
            _observe(name, "ok", completion, cost, latency_ms)
            return rows
        rows.append(
            await ledger.settle(
                session,
                reservation,
                status="error",
                prompt_tokens=0,
                completion_tokens=0,
                cost=0.0,
                latency_ms=latency_ms,
                error=f"{error.kind}: {error}",
            )
        )
        ROUTER_LATENCY_MS.labels(name, "error").observe(latency_ms)
    rows.append(
        await ledger.record(
            session,
            tenant_id=tenant_id,
            agent_id=agent_id,
            run_id=run_id,
            model=LOCAL,
            status="ok",
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=0.0,
            latency_ms=latency_ms if call.is_local else 0.0,
        )
    )
    _observe(LOCAL, "ok", completion, 0.0, latency_ms)
    return rows


def _observe(model: str, status: str, completion: Completion, cost: float, latency_ms: float) -> None:
    ROUTER_TOKENS.labels(model).inc(completion.prompt_tokens + completion.completion_tokens)
    ROUTER_COST.labels(model).inc(cost)
    ROUTER_LATENCY_MS.labels(model, status).observe(latency_ms)
