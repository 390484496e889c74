"""All configuration in one place, read from the environment and `.env`; fails fast on bad values."""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A list from the environment as "a,b" or as JSON: NoDecode hands the raw text to `_comma_list`
# (pydantic-settings would otherwise insist on JSON for a list and refuse "a,b" at start-up).
CommaList = Annotated[list[str], NoDecode]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Server settings; each field names the environment variable that sets it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path("./data"), validation_alias="TALKATIVE_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="TALKATIVE_DATABASE_URL")
    host: str = Field(default="127.0.0.1", validation_alias="TALKATIVE_HOST")
    port: int = Field(default=4000, ge=1, le=65535, validation_alias="TALKATIVE_PORT")
    log_level: LogLevel = Field(default="INFO", validation_alias="TALKATIVE_LOG_LEVEL")
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto", validation_alias="TALKATIVE_LOG_FORMAT"
    )
    revision: str | None = Field(default=None, validation_alias="TALKATIVE_REVISION")
    public_url: str | None = Field(default=None, validation_alias="TALKATIVE_PUBLIC_URL")

    jwt_secret: str | None = Field(default=None, validation_alias="AUTH_JWT_SECRET", repr=False)
    auth_disabled: bool = Field(default=False, validation_alias="AUTH_DISABLED")
    token_ttl_minutes: int = Field(
        default=12 * 60, ge=1, le=60 * 24 * 365, validation_alias="AUTH_TOKEN_TTL_MINUTES"
    )
    db_timeout_s: float = Field(
        default=5.0, gt=0, le=120, validation_alias=AliasChoices("TALKATIVE_DB_TIMEOUT_S")
    )

    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=1024**3, validation_alias="TALKATIVE_MAX_BODY_BYTES"
    )
    sse_keepalive_s: float = Field(default=15.0, gt=0, le=300, validation_alias="TALKATIVE_SSE_KEEPALIVE_S")
    events_keep_per_agent: int = Field(
        default=100_000, ge=100, validation_alias="TALKATIVE_EVENTS_KEEP_PER_AGENT"
    )
    events_prune_interval_s: float = Field(
        default=60.0, gt=0, validation_alias="TALKATIVE_EVENTS_PRUNE_INTERVAL_S"
    )
    # The integrity check (`talkative check`), run by the cluster's leader every so often; 0: never.
    integrity_check_interval_s: float = Field(
        default=3600.0, ge=0, le=7 * 24 * 3600, validation_alias="TALKATIVE_INTEGRITY_CHECK_INTERVAL_S"
    )
    # The shared event bus (PostgreSQL): how often it reads the event tail when no notification
    # came (a safety net; notifications bring events within milliseconds).
    bus_poll_s: float = Field(default=2.0, gt=0, le=60, validation_alias="TALKATIVE_BUS_POLL_S")
    heartbeat_poll_s: float = Field(
        default=15.0, gt=0, le=3600, validation_alias="TALKATIVE_HEARTBEAT_POLL_S"
    )
    tool_timeout_s: float = Field(default=30.0, gt=0, le=3600, validation_alias="TALKATIVE_TOOL_TIMEOUT_S")
    tool_memory_mb: int = Field(default=512, ge=64, validation_alias="TALKATIVE_TOOL_MEMORY_MB")
    tool_output_cap_kb: int = Field(default=1024, ge=1, validation_alias="TALKATIVE_TOOL_OUTPUT_CAP_KB")
    # Write quotas (see tools/quota.py): what one skill run may add to its workspace's inputs/ and
    # outputs/, and what a whole workspace may hold; a run over either is stopped, its excess removed.
    tool_write_quota_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, validation_alias="TALKATIVE_TOOL_WRITE_QUOTA_BYTES"
    )
    tool_write_quota_files: int = Field(
        default=10_000, ge=1, le=1_000_000, validation_alias="TALKATIVE_TOOL_WRITE_QUOTA_FILES"
    )
    workspace_quota_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024, validation_alias="TALKATIVE_WORKSPACE_QUOTA_BYTES"
    )
    workspace_quota_files: int = Field(
        default=50_000, ge=1, le=10_000_000, validation_alias="TALKATIVE_WORKSPACE_QUOTA_FILES"
    )

    run_lease_s: float = Field(default=15.0, ge=1, le=3600, validation_alias="TALKATIVE_RUN_LEASE_S")
    worker_concurrency: int = Field(default=8, ge=1, le=256, validation_alias="TALKATIVE_WORKER_CONCURRENCY")
    worker_poll_s: float = Field(default=1.0, gt=0, le=60, validation_alias="TALKATIVE_WORKER_POLL_S")
    # Cluster mode (cluster/): how often a process renews its entry in the process registry and one
    # that does not lead tries to; a process not seen for three of these counts as gone.
    # `talkative worker` has no HTTP API: with a port set, it serves its Prometheus metrics there
    # (on TALKATIVE_HOST), so that every process of a cluster can be scraped.
    worker_metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias="TALKATIVE_WORKER_METRICS_PORT"
    )
    cluster_poll_s: float = Field(default=5.0, gt=0, le=60, validation_alias="TALKATIVE_CLUSTER_POLL_S")
    # Where agents' workspaces live; a cluster points every process at one shared folder.
    workspaces_root: Path | None = Field(default=None, validation_alias="TALKATIVE_WORKSPACES_DIR")
    message_wait_s: float = Field(default=60.0, ge=0, le=3600, validation_alias="TALKATIVE_MESSAGE_WAIT_S")
    context_token_budget: int = Field(
        default=2000, ge=100, le=200_000, validation_alias="TALKATIVE_CONTEXT_TOKEN_BUDGET"
    )
    llm_timeout_s: float = Field(default=30.0, gt=0, le=600, validation_alias="TALKATIVE_LLM_TIMEOUT_S")
    # Fleet: where local nodes lay agents out, and the one SSH identity used for every ssh node.
    fleet_local_root: Path | None = Field(default=None, validation_alias="TALKATIVE_FLEET_LOCAL_ROOT")
    fleet_ssh_key: Path | None = Field(default=None, validation_alias="TALKATIVE_FLEET_SSH_KEY")
    fleet_ssh_known_hosts: Path | None = Field(
        default=None, validation_alias="TALKATIVE_FLEET_SSH_KNOWN_HOSTS"
    )
    fleet_ssh_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, validation_alias="TALKATIVE_FLEET_SSH_TIMEOUT_S"
    )
    fleet_ssh_connect_timeout_s: int = Field(
        default=10, ge=1, le=300, validation_alias="TALKATIVE_FLEET_SSH_CONNECT_TIMEOUT_S"
    )
    tool_fork_server: bool = Field(default=True, validation_alias="TALKATIVE_TOOL_FORK_SERVER")
    # Host names or addresses that skills' egress may reach although they are loopback, private or
    # link-local (e.g. an intranet API); by default the egress proxy reaches public addresses only.
    egress_allow_private: CommaList = Field(default=[], validation_alias="TALKATIVE_EGRESS_ALLOW_PRIVATE")
    # The skill sandbox (tools/confine.py): "required" refuses to run skills where a layer cannot be
    # set up; "best-effort" runs them with what works and says what is missing on every run.
    sandbox: Literal["required", "best-effort"] = Field(
        default="required", validation_alias="TALKATIVE_SANDBOX"
    )
    sandbox_uid: int = Field(default=65534, ge=1, lt=2**32 - 1, validation_alias="TALKATIVE_SANDBOX_UID")
    sandbox_gid: int = Field(default=65534, ge=1, lt=2**32 - 1, validation_alias="TALKATIVE_SANDBOX_GID")
    approval_keywords: CommaList = Field(
        default=["transfer", "wire", "refund", "delete", "transferir", "reembolso", "borrar"],
        validation_alias="TALKATIVE_APPROVAL_KEYWORDS",
    )
    # Outbound webhooks (webhooks/): the leader's delivery loop looks for new events this often; each
    # POST may take this long; a failed delivery is retried with exponential backoff (base doubling
    # up to the cap, with jitter) and given up after so many attempts or once its first attempt is
    # so old. Receivers on loopback or private addresses are refused unless named here (host names
    # or addresses, like TALKATIVE_EGRESS_ALLOW_PRIVATE).
    # How often the leader looks for approvals whose deadline passed or whose reminder is due
    # (approvals/policy.py); a deadline is acted on at most this late.
    approval_deadline_poll_s: float = Field(
        default=5.0, gt=0, le=300, validation_alias="TALKATIVE_APPROVAL_DEADLINE_POLL_S"
    )
    webhooks_poll_s: float = Field(default=2.0, gt=0, le=300, validation_alias="TALKATIVE_WEBHOOKS_POLL_S")
    webhooks_timeout_s: float = Field(
        default=10.0, gt=0, le=120, validation_alias="TALKATIVE_WEBHOOKS_TIMEOUT_S"
    )
    webhooks_max_attempts: int = Field(
        default=12, ge=1, le=100, validation_alias="TALKATIVE_WEBHOOKS_MAX_ATTEMPTS"
    )
    webhooks_max_age_s: float = Field(
        default=24 * 3600.0, gt=0, le=30 * 24 * 3600, validation_alias="TALKATIVE_WEBHOOKS_MAX_AGE_S"
    )
    webhooks_backoff_base_s: float = Field(
        default=5.0, gt=0, le=3600, validation_alias="TALKATIVE_WEBHOOKS_BACKOFF_BASE_S"
    )
    webhooks_backoff_cap_s: float = Field(
        default=600.0, gt=0, le=24 * 3600, validation_alias="TALKATIVE_WEBHOOKS_BACKOFF_CAP_S"
    )
    webhooks_per_tenant: int = Field(
        default=20, ge=1, le=1000, validation_alias="TALKATIVE_WEBHOOKS_PER_TENANT"
    )
    webhooks_allow_private: CommaList = Field(default=[], validation_alias="TALKATIVE_WEBHOOKS_ALLOW_PRIVATE")
    # Approval requests by email (approval_mail/): off while no SMTP host is set. The leader mails
    # each request to the tenant's recipients who may decide it, with a one-click link to
    # `<TALKATIVE_PUBLIC_URL>/approvals/<id>` carrying a token good for that approval only, for
    # TALKATIVE_APPROVAL_LINK_TTL_S at most (and never past the approval's deadline). Failed sends
    # are retried like webhooks (TALKATIVE_WEBHOOKS_BACKOFF_*, _MAX_ATTEMPTS, _MAX_AGE_S, _POLL_S).
    smtp_host: str | None = Field(default=None, max_length=253, validation_alias="TALKATIVE_SMTP_HOST")
    smtp_port: int = Field(default=587, ge=1, le=65535, validation_alias="TALKATIVE_SMTP_PORT")
    smtp_username: str | None = Field(
        default=None, max_length=500, validation_alias="TALKATIVE_SMTP_USERNAME"
    )
    smtp_password: str | None = Field(
        default=None, max_length=500, validation_alias="TALKATIVE_SMTP_PASSWORD", repr=False
    )
    smtp_starttls: bool = Field(default=True, validation_alias="TALKATIVE_SMTP_STARTTLS")
    # TLS from the first byte (port 465); STARTTLS is then not used.
    smtp_ssl: bool = Field(default=False, validation_alias="TALKATIVE_SMTP_SSL")
    smtp_timeout_s: float = Field(default=20.0, gt=0, le=300, validation_alias="TALKATIVE_SMTP_TIMEOUT_S")
    mail_from: str = Field(
        default="talkative@localhost", min_length=3, max_length=254, validation_alias="TALKATIVE_MAIL_FROM"
    )
    approval_link_ttl_s: int = Field(
        default=3600, ge=60, le=7 * 24 * 3600, validation_alias="TALKATIVE_APPROVAL_LINK_TTL_S"
    )
    # MCP servers as skills (mcp_skills/): one listing or tool call may take this long; servers on
    # loopback or private addresses are refused unless named here (like TALKATIVE_WEBHOOKS_ALLOW_PRIVATE).
    mcp_timeout_s: float = Field(default=30.0, gt=0, le=600, validation_alias="TALKATIVE_MCP_TIMEOUT_S")
    mcp_allow_private: CommaList = Field(default=[], validation_alias="TALKATIVE_MCP_ALLOW_PRIVATE")

    @field_validator(
        "approval_keywords",
        "egress_allow_private",
        "webhooks_allow_private",
        "mcp_allow_private",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [word.strip() for word in value.split(",") if word.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL: the configured one, or SQLite in the data dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'talkative.db').resolve()}"

    @field_validator("workspaces_root")
    @classmethod
    def _not_the_root(cls, value: Path | None) -> Path | None:
        if value is not None and value.resolve() == Path("/"):  # the sandbox could not hide it
            raise ValueError("TALKATIVE_WORKSPACES_DIR cannot be /")
        return value

    @property
    def workspaces_dir(self) -> Path:
        return self.workspaces_root or self.data_dir / "workspaces"

    @property
    def fleet_root(self) -> Path:
        """The default base path of local nodes, and the folder each of their base paths must be in."""
        return self.fleet_local_root or self.data_dir / "fleet"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver we ship."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
