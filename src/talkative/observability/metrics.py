"""Every Prometheus metric the service exposes, on one registry (docs/product.md §7)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

AGENT_RUNS = Counter(
    "talkative_agent_runs", "Runs finished, by kind and final status", ["kind", "status"], registry=REGISTRY
)
RUN_DURATION_S = Histogram(
    "talkative_run_duration_seconds",
    "Run duration from opening to its final status",
    ["kind", "status"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
    registry=REGISTRY,
)
TOOL_CALLS = Counter("talkative_tool_calls", "Tool runs started", ["skill"], registry=REGISTRY)
TOOL_FAILURES = Counter(
    "talkative_tool_failures", "Tool runs that failed", ["skill", "code"], registry=REGISTRY
)
ROUTER_TOKENS = Counter(
    "talkative_router_tokens", "Tokens through the LLM router", ["model"], registry=REGISTRY
)
ROUTER_COST = Counter(
    "talkative_router_cost_usd", "Cost through the LLM router", ["model"], registry=REGISTRY
)
ROUTER_OVER_HOLD = Counter(
    "talkative_router_over_hold",
    "Calls the provider billed above the amount held for them (the bound was wrong)",
    ["model"],
    registry=REGISTRY,
)
ROUTER_LATENCY_MS = Histogram(
    "talkative_router_request_duration_ms",
    "Model call latency in milliseconds",
    ["model", "status"],
    buckets=(0.5, 1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000),
    registry=REGISTRY,
)
SSE_SUBSCRIBERS = Gauge(
    "talkative_sse_subscribers", "Open GET /events streams of this process", registry=REGISTRY
)
HTTP_REQUESTS = Counter("talkative_http_requests", "HTTP requests", ["method", "endpoint"], registry=REGISTRY)
HTTP_FAILURES = Counter(
    "talkative_http_requests_failed",
    "HTTP requests answered with status >= 400",
    ["method", "endpoint"],
    registry=REGISTRY,
)
HTTP_DURATION_MS = Histogram(
    "talkative_http_request_duration_ms",
    "HTTP request duration in milliseconds",
    ["method", "endpoint"],
    buckets=(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
    registry=REGISTRY,
)
# The shared event bus (PostgreSQL), per process like every metric here: scrape each instance.
BUS_LAG = Histogram(
    "talkative_bus_lag_seconds",
    "From an event's commit statement to its hand-out to this process's streams and listeners",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
BUS_RECONNECTS = Counter(
    "talkative_bus_reconnects",
    "Times this process's listening connection to PostgreSQL was lost or could not be opened",
    registry=REGISTRY,
)
LEADER = Gauge(
    "talkative_leader",
    "1 while this process leads its cluster: it runs the heartbeat scheduler and event retention",
    registry=REGISTRY,
)
LEASE_TAKEOVERS = Counter(
    "talkative_lease_takeovers",
    "Runs this process took over after their holder's lease expired (a worker or a planner stopped)",
    registry=REGISTRY,
)
FENCED_WRITES = Counter(
    "talkative_fenced_writes",
    "Outcomes this process did not write because it had lost the run meanwhile, by phase (step, plan)",
    ["phase"],
    registry=REGISTRY,
)
# Read when /metrics is scraped (observability/router.py runs the scrape hooks main.py installs).
HEALTH_OK = Gauge(
    "talkative_health_ok",
    "1 when this process's GET /health answers ok (its database answers), else 0",
    registry=REGISTRY,
)
# Cluster-wide numbers from the usage ledger, the same on every process: graph max(), not sum().
ROUTER_SPEND_USD = Gauge(
    "talkative_router_spend_usd",
    "Model spend so far in the current UTC day or month (reserved calls included); tenant '*' is all tenants",
    ["tenant", "window"],
    registry=REGISTRY,
)
ROUTER_CAP_USD = Gauge(
    "talkative_router_cap_usd",
    "Cost caps in force, by tenant ('*' for the global cap) and window (day, month)",
    ["tenant", "window"],
    registry=REGISTRY,
)
# The release runbook's rollback triggers (docs/runbook.md; deploy/prometheus/alerts.yml).
CRITICAL_LOOP = Counter(
    "talkative_critical_loop",
    "Operator messages to an agent by outcome: ok, no_patch, no_events, error (docs/operations.md)",
    ["outcome"],
    registry=REGISTRY,
)
CRITICAL_LOOP_OUTCOMES = ("ok", "no_patch", "no_events", "error")
for _outcome in CRITICAL_LOOP_OUTCOMES:  # every series exists from the start, at 0
    CRITICAL_LOOP.labels(_outcome)
CRITICAL_LOOP_DURATION_S = Histogram(
    "talkative_critical_loop_duration_seconds",
    "From an operator's message received to its workflow patch applied and its events recorded",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
HTTP_SERVER_ERRORS = Counter(
    "talkative_http_server_errors",
    "HTTP responses with status >= 500, by route template",
    ["method", "endpoint"],
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "talkative_auth_failures",
    "Requests refused by authentication (401) or authorisation (403)",
    ["status"],
    registry=REGISTRY,
)
for _status in ("401", "403"):
    AUTH_FAILURES.labels(_status)
INTEGRITY_OK = Gauge(
    "talkative_integrity_check_ok",
    "1 when the last scheduled integrity check found nothing, 0 when it found something or failed",
    registry=REGISTRY,
)
INTEGRITY_FINDINGS = Gauge(
    "talkative_integrity_check_findings", "Findings of the last scheduled integrity check", registry=REGISTRY
)
INTEGRITY_LAST_RUN = Gauge(
    "talkative_integrity_check_last_run_timestamp_seconds",
    "When the last scheduled integrity check ended (seconds since the epoch)",
    registry=REGISTRY,
)
# NaN until this process has run a check (only the cluster's leader runs them): an alert on
# `== 0` or `> 0` stays quiet rather than firing on a check that never ran.
INTEGRITY_OK.set(float("nan"))
INTEGRITY_FINDINGS.set(float("nan"))
# Outbound webhooks (webhooks/delivery.py), counted by the leader that delivers them.
WEBHOOK_DELIVERIES = Counter(
    "talkative_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered, retry, failed = given up)",
    ["outcome"],
    registry=REGISTRY,
)
# Approval emails (approval_mail/delivery.py), counted by the leader that sends them.
APPROVAL_MAILS = Counter(
    "talkative_approval_mails",
    "Approval emails, by outcome (delivered, retry, failed = given up, skipped = decided or past deadline)",
    ["outcome"],
    registry=REGISTRY,
)
