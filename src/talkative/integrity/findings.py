"""What a check found: plain values, shared by the checks, the service and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the data contradicts itself: follow docs/operations.md before going on
    WARNING = "warning"  # probably wrong, though a rare legitimate history can produce it


class Check(StrEnum):
    """Every check by its stable name (alerts, logs and docs/operations.md quote these)."""

    ENGINE_INTEGRITY = "engine_integrity"
    ENGINE_FOREIGN_KEYS = "engine_foreign_keys"
    ENGINE_INVALID_INDEX = "engine_invalid_index"
    ENGINE_BTREE_INDEX = "engine_btree_index"
    RUN_OPEN_STEPS = "run_open_steps"
    RUN_FINISHING_EVENT = "run_finishing_event"
    RUN_FINISH_TIME = "run_finish_time"
    RESERVATION_HELD = "reservation_held_by_finished_run"
    EVENT_CROSS_TENANT_RUN = "event_cross_tenant_run"
    EVENT_CROSS_TENANT_AGENT = "event_cross_tenant_agent"
    WORKFLOW_VERSION_GAP = "workflow_version_gap"
    WORKSPACE_MISSING = "workspace_missing"
    WORKSPACE_SHARED = "workspace_shared"


@dataclass(frozen=True)
class Finding:
    check: Check
    severity: Severity
    subjects: tuple[str, ...]  # the ids concerned: tenant, run, agent, workflow, event ...
    detail: str

    def as_json(self) -> dict[str, object]:
        return {
            "check": str(self.check),
            "severity": str(self.severity),
            "subjects": list(self.subjects),
            "detail": self.detail,
        }


@dataclass
class Report:
    """One pass: which checks ran and what they found."""

    engine: str
    finished_at: float = 0.0  # seconds since the epoch
    ran: list[Check] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, check: Check, found: list[Finding]) -> None:
        self.ran.append(check)
        self.findings.extend(found)
