"""Reading the legacy Node.js POC's `backend/data`: files, lines and records, checked one by one.

Nothing here raises for bad data: a record that does not fit is counted as malformed and described
(file and line, or file and list index) in the report's problems, and reading goes on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from talkative.workflows.graph import describe_validation

DEFAULT_TENANT = "tenant-default"
IMPORT_ACTOR = "import-legacy"


@dataclass
class Counts:
    imported: int = 0
    skipped: int = 0  # already present
    malformed: int = 0
    present: bool = False  # the kind's file(s) exist in the legacy folder
    note: str = ""


@dataclass
class ImportReport:
    source: Path
    dry_run: bool = False
    kinds: dict[str, Counts] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # What was imported other than as written (a model name qualified, a cloud created): not a loss.
    changes: list[str] = field(default_factory=list)

    def kind(self, name: str) -> Counts:
        return self.kinds.setdefault(name, Counts())

    def malformed(self, kind: str, where: str, what: str) -> None:
        self.kind(kind).malformed += 1
        self.problems.append(f"{where}: {what}")


def _utc(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value[:40]!r}") from None
    else:
        raise ValueError("must be an ISO-8601 time string")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Time = Annotated[datetime, BeforeValidator(_utc)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S+$")]
# Agent ids name a workspace folder and travel in URLs: no separators, no leading dot.
AgentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Who = Annotated[str, StringConstraints(min_length=1, max_length=200)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CommandType = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Amount = Annotated[float, BeforeValidator(_number), Field(ge=0)]
Count = Annotated[int, Field(strict=True, ge=0)]
Payload = dict[str, Any] | None


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tenant_id: Id | None = None

    @property
    def tenant(self) -> str:
        return self.tenant_id or DEFAULT_TENANT


class LegacyAgent(_Record):
    id: AgentId
    name: Name
    status: str = "stopped"
    heartbeatMinutes: int = Field(default=30, strict=True, ge=1, le=7 * 24 * 60)
    lastHeartbeatAt: Time | None = None
    lastMessageAt: Time | None = None
    lastMessage: str | None = None
    createdAt: Time | None = None
    updatedAt: Time | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_from_agent_id(cls, data: Any) -> Any:
        # Older files have `id` only; a file with `agent_id` only is read the same way.
        if isinstance(data, dict) and data.get("id") is None and data.get("agent_id") is not None:
            return {**data, "id": data["agent_id"]}
        return data


class LegacyAgentEvent(_Record):
    agent_id: Id | None = None
    agentId: Id | None = None
    type: EventType
    message: str = ""
    payload: Payload = None
    timestamp: Time


class LegacyOrchestratorEvent(_Record):
    agent_id: Id | None = None
    run_id: Id | None = None
    type: EventType
    message: str = ""
    payload: Payload = None
    created_at: Time


class LegacyCommand(_Record):
    id: Id
    agent_id: Id
    run_id: Id | None = None
    type: CommandType
    payload: Payload = None
    created_at: Time


class LegacyStep(BaseModel):
    id: Id
    type: Literal["command", "event"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    at: Time
    payload: Payload = None


class LegacyRun(_Record):
    run_id: Id
    agent_id: Id
    status: Annotated[str, StringConstraints(max_length=200)]
    subagent_state: str | None = None
    created_at: Time
    updated_at: Time | None = None
    last_error: str | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)


class LegacyApproval(_Record):
    id: Id
    agent_id: Id
    run_id: Id | None = None
    reason: str
    status: Literal["pending", "approved", "rejected"]
    requested_at: Time
    decided_at: Time | None = None
    decided_by: Who | None = None
    note: str | None = None


class LegacyPrompt(_Record):
    id: Id
    agent_id: Id
    version: int = Field(strict=True, ge=1)
    template: str
    is_active: StrictBool = False
    created_at: Time


class LegacyClientMessage(_Record):
    id: Id
    agent_id: Id
    client_id: Who
    text: str
    run_id: Id
    created_at: Time


class LegacyInternalAction(_Record):
    id: Id
    agent_id: Id | None = None
    operator_id: Who
    action: Who
    payload: Payload = None
    created_at: Time


class LegacyUsage(_Record):
    agent_id: Id | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=160)]
    tokens: Count
    cost: Amount
    latency_ms: Amount = 0.0
    status: Literal["ok", "error"]
    created_at: Time


class LegacyWorkflowVersion(BaseModel):
    version: int = Field(strict=True, ge=1)
    createdAt: Time | None = None
    note: str | None = None
    nodes: list[Any] = Field(default_factory=list)
    edges: list[Any] = Field(default_factory=list)


class LegacyWorkflow(BaseModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^\S+$")]
    name: Name
    createdAt: Time | None = None
    updatedAt: Time | None = None
    versions: list[dict[str, Any]] = Field(default_factory=list)


R = TypeVar("R", bound=BaseModel)


def check(model: type[R], data: object, where: str, kind: str, report: ImportReport) -> R | None:
    """`data` as `model`, or None after recording it as malformed."""
    if not isinstance(data, dict):
        report.malformed(kind, where, "not a JSON object")
        return None
    if "\\u0000" in json.dumps(data):  # PostgreSQL stores no NUL character, in text or JSON
        report.malformed(kind, where, "contains a NUL character")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        report.malformed(kind, where, describe_validation(exc))
        return None


def label(report: ImportReport, path: Path) -> str:
    try:
        return str(path.relative_to(report.source))
    except ValueError:
        return str(path)


def read_jsonl(path: Path, model: type[R], kind: str, report: ImportReport) -> list[tuple[str, R]]:
    """Every valid line of a JSONL file, with its `file:line`; blank lines are ignored."""
    counts = report.kind(kind)
    if not path.is_file():
        return []
    counts.present = True
    name = label(report, path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.malformed(kind, name, f"cannot read: {exc.strerror}")
        return []
    records: list[tuple[str, R]] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            data = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            report.malformed(kind, where, "not UTF-8")
            continue
        except ValueError as exc:
            report.malformed(kind, where, f"bad JSON: {getattr(exc, 'msg', exc)}")
            continue
        record = check(model, data, where, kind, report)
        if record is not None:
            records.append((where, record))
    return records


def read_json(path: Path, kind: str, report: ImportReport) -> object | None:
    """A whole-JSON file's content; None when absent, or unreadable (then reported, kind skipped)."""
    if not path.is_file():
        return None
    report.kind(kind).present = True
    try:
        data: object = json.loads(path.read_bytes().decode("utf-8"))
        return data
    except OSError as exc:
        report.malformed(kind, label(report, path), f"cannot read: {exc.strerror}; {kind} skipped")
    except UnicodeDecodeError:
        report.malformed(kind, label(report, path), f"not UTF-8; {kind} skipped")
    except ValueError as exc:
        report.malformed(kind, label(report, path), f"bad JSON: {getattr(exc, 'msg', exc)}; {kind} skipped")
    return None


def read_document(
    path: Path, key: str, model: type[R], kind: str, report: ImportReport
) -> list[tuple[str, R]] | None:
    """The valid records of `{"<key>": [...]}`, each with `file key[i]`; None if the file is unusable."""
    data = read_json(path, kind, report)
    if data is None:
        return None
    name = label(report, path)
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        report.malformed(kind, name, f'expected {{"{key}": [...]}}; {kind} skipped')
        return None
    records: list[tuple[str, R]] = []
    for index, item in enumerate(items):
        record = check(model, item, f"{name} {key}[{index}]", kind, report)
        if record is not None:
            records.append((f"{name} {key}[{index}]", record))
    return records
