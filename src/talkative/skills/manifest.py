"""SKILL.md parsing and validation: YAML front matter -> `SkillManifest`, folder -> `Skill`."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from talkative.tools.egress import parse_destination

SKILL_FILE = "SKILL.md"
MAX_SKILL_MD_BYTES = 256 * 1024
# The Agent Skills naming rule: lowercase letters, digits and single inner hyphens.
NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PYTHON_COMMANDS = frozenset({"python", "python3"})
# The runner never uses a shell, so these would reach the script as literal arguments.
MAX_NETWORK_DESTINATIONS = 16
SHELL_TOKENS = frozenset({"|", "||", "&", "&&", ";", ">", ">>", "<", "<<", "2>", "2>&1"})
# An MCP tool's name (the protocol's rule) and a tool digest (sha256, hex).
MCP_TOOL_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
DIGEST_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MCP_COMMAND = "mcp"  # the first word of an MCP skill's command: never a script, never a shell


def mcp_command(server: str, tool: str) -> str:
    """The command an MCP skill's steps carry: it names the call, it is never executed."""
    return f"{MCP_COMMAND} {server} {tool}"


def is_mcp_command(command: str) -> bool:
    return command.startswith(f"{MCP_COMMAND} ")


class InvalidSkill(ValueError):
    """A skill folder or SKILL.md that cannot be used; `errors` holds (field, reason) pairs."""

    def __init__(self, source: str, errors: list[tuple[str, str]]) -> None:
        self.source = source
        self.errors = errors
        detail = "; ".join(f"{field}: {reason}" if field else reason for field, reason in errors)
        super().__init__(f"{source}: {detail}")


class _FieldError(ValueError):
    """Raised from cross-field validators so the error still names its field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(reason)


def _relative_posix(value: str, *, under: str, what: str) -> PurePosixPath:
    """Check a manifest path is relative, '/'-separated, without '..' and below `under`/."""
    path = PurePosixPath(value)
    if "\\" in value or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{what} {value!r} must be a relative '/' path without '..'")
    if len(path.parts) < 2 or path.parts[0] != under:
        raise ValueError(f"{what} {value!r} must be a file inside {under}/")
    return path


class McpRef(BaseModel):
    """An MCP skill's tool: which server of the tenant, which tool, and the digest of the tool's
    name, description and input schema it was attached with (mcp_skills/)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN.pattern)
    tool: str = Field(min_length=1, max_length=128, pattern=MCP_TOOL_PATTERN.pattern)
    digest: str = Field(min_length=64, max_length=64, pattern=DIGEST_PATTERN.pattern)


class SkillManifest(BaseModel):
    """The front matter of a SKILL.md (Agent Skills keys plus Talkative's own)."""

    # Unknown keys are refused: a misspelt `requires-approval` must not silently mean "no".
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=1024)
    # A script skill's command; an MCP skill has `mcp` instead (its command is then derived).
    command: str = Field(default="", max_length=1000)
    mcp: McpRef | None = None
    triggers: tuple[str, ...] = ()
    requires_approval: StrictBool = False
    heartbeat: StrictBool = False
    # Hosts the skill needs ("host:port"); reached only through the egress proxy, and only once an
    # admin allowed them for the agent (see tools/egress.py). Without it a run has no network.
    network: tuple[str, ...] = Field(default=(), max_length=MAX_NETWORK_DESTINATIONS)
    seed: dict[str, str] = Field(default_factory=dict)
    # Optional Agent Skills keys, accepted so skills written elsewhere load unchanged.
    license: str | None = None
    compatibility: str | None = Field(default=None, max_length=500)
    metadata: dict[str, str] | None = None
    allowed_tools: str | None = Field(default=None, alias="allowed-tools")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not a slug (lowercase letters, digits, single inner hyphens)")
        return value

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("triggers")
    @classmethod
    def _normalise_triggers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned: list[str] = []
        for trigger in value:
            words = " ".join(trigger.lower().split())
            if not re.search(r"\w", words):
                raise ValueError(f"trigger {trigger!r} has no word characters")
            if words not in cleaned:
                cleaned.append(words)
        return tuple(cleaned)

    @field_validator("network")
    @classmethod
    def _normalise_network(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        destinations: list[str] = []
        for item in value:
            host, port = parse_destination(item)  # ValueError names the bad entry
            normal = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            if normal not in destinations:
                destinations.append(normal)
        return tuple(destinations)

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: dict[str, str]) -> dict[str, str]:
        for source, destination in value.items():
            _relative_posix(source, under="assets", what="seed source")
            _relative_posix(destination, under="inputs", what="seed destination")
        if len(set(value.values())) != len(value):
            raise ValueError("two seed sources share a destination")
        return value

    @model_validator(mode="before")
    @classmethod
    def _mcp_command(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("mcp"), dict) and "command" not in data:
            ref = data["mcp"]
            return {**data, "command": mcp_command(str(ref.get("server")), str(ref.get("tool")))}
        return data

    @model_validator(mode="after")
    def _check_command(self) -> SkillManifest:
        if self.mcp is not None:
            return self._check_mcp(self.mcp)
        if not self.command:
            raise _FieldError("command", "is required (or `mcp` for an MCP tool)")
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise _FieldError("command", f"cannot be split into arguments: {exc}") from None
        if len(argv) < 2 or argv[0] not in PYTHON_COMMANDS:
            raise _FieldError("command", "must be 'python skills/<name>/scripts/<file>.py ...'")
        bad = sorted(SHELL_TOKENS.intersection(argv))
        if bad:
            raise _FieldError("command", f"runs without a shell, so {bad} is not allowed")
        script = self.script_path
        if script is None:
            raise _FieldError(
                "command", f"script must be a .py file under skills/{self.name}/, got {argv[1]!r}"
            )
        return self

    def _check_mcp(self, ref: McpRef) -> SkillManifest:
        if self.command != mcp_command(ref.server, ref.tool):
            raise _FieldError("command", "an MCP skill has no command of its own (leave it out)")
        if self.heartbeat or self.network or self.seed:
            raise _FieldError("mcp", "an MCP skill has no heartbeat, network or seed")
        return self

    @property
    def argv(self) -> list[str]:
        """The command as an argument list (never passed to a shell)."""
        return shlex.split(self.command)

    @property
    def script_path(self) -> PurePosixPath | None:
        """The script's path inside the skill folder, or None if the command points elsewhere."""
        if self.mcp is not None:
            return None
        argv = shlex.split(self.command)
        if len(argv) < 2:
            return None
        try:
            path = _relative_posix(argv[1], under="skills", what="script")
        except ValueError:
            return None
        if len(path.parts) < 3 or path.parts[1] != self.name or path.suffix != ".py":
            return None
        return PurePosixPath(*path.parts[2:])


@dataclass(frozen=True)
class Skill:
    """A loaded skill: its manifest, where it lives and the Markdown instructions."""

    manifest: SkillManifest
    folder: Path
    body: str

    @property
    def name(self) -> str:
        return self.manifest.name


def _split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InvalidSkill(source, [("", "missing YAML front matter (first line must be '---')")])
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            front, body = "".join(lines[1:index]), "".join(lines[index + 1 :])
            break
    else:
        raise InvalidSkill(source, [("", "front matter is not closed by a '---' line")])
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        raise InvalidSkill(source, [("", f"front matter is not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise InvalidSkill(source, [("", "front matter must be a YAML mapping of keys")])
    return data, body.lstrip("\n")


def _describe(error: Any) -> tuple[str, str]:
    """Turn one pydantic error into (field, human reason)."""
    field = ".".join(str(part) for part in error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _FieldError):
        return cause.field, str(cause)
    if error["type"] == "missing":
        return field, "is required"
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(f.alias or n for n, f in SkillManifest.model_fields.items()))
        return field, f"unknown key (allowed: {allowed})"
    if cause is not None:
        return field, str(cause)
    return field, str(error["msg"])


def _parse(text: str, source: str) -> tuple[SkillManifest, str]:
    data, body = _split_front_matter(text, source)
    try:
        manifest = SkillManifest.model_validate(data)
    except ValidationError as exc:
        raise InvalidSkill(source, [_describe(e) for e in exc.errors()]) from None
    return manifest, body


def parse_skill_md(text: str) -> SkillManifest:
    """Validate the front matter of a SKILL.md text (no filesystem checks)."""
    return _parse(text, SKILL_FILE)[0]


def load_skill(folder: Path) -> Skill:
    """Load and fully validate a skill folder: manifest, name = folder, script and assets exist."""
    skill_md = folder / SKILL_FILE
    source = str(skill_md)
    if not skill_md.is_file():
        raise InvalidSkill(str(folder), [("", f"no {SKILL_FILE} in the folder")])
    if skill_md.stat().st_size > MAX_SKILL_MD_BYTES:
        raise InvalidSkill(source, [("", f"larger than {MAX_SKILL_MD_BYTES} bytes")])
    try:
        text = skill_md.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSkill(source, [("", f"not UTF-8 text: {exc}")]) from None
    manifest, body = _parse(text, source)
    errors: list[tuple[str, str]] = []
    if manifest.name != folder.name:
        errors.append(("name", f"{manifest.name!r} must equal the folder name {folder.name!r}"))
    script = manifest.script_path
    if script is not None and not (folder / script).is_file():
        errors.append(("command", f"script {script} does not exist in the skill folder"))
    errors.extend(
        ("seed", f"asset {asset} does not exist in the skill folder")
        for asset in manifest.seed
        if not (folder / asset).is_file()
    )
    if errors:
        raise InvalidSkill(source, errors)
    return Skill(manifest=manifest, folder=folder, body=body)
