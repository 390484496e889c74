"""Which of an agent's skills may run: only those whose files are as an admin attached them.

A skill is pinned when an admin attaches it (agents.service): the digest of its folder. Planning
a message or a heartbeat leaves out every skill whose folder no longer has that digest, or that
was never attached, and says so with a SKILL_UNTRUSTED event. The digest a step was planned with
travels in its spec and is checked again right before the step runs (`refusal`), so a skill that
changes between planning and running (another step of the same run rewrote it) does not run
either.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from talkative.events.schemas import EventType, NewEvent
from talkative.runs.planner import PlannedStep, skill_of
from talkative.runs.specs import ToolSpec
from talkative.skills import pins
from talkative.skills.manifest import NAME_PATTERN, Skill, is_mcp_command
from talkative.skills.matching import match_skills
from talkative.skills.pins import SkillTrust


@dataclass(frozen=True)
class SkillSet:
    """An agent's skills sorted by trust: `trusted` may run, each with its pinned digest."""

    trusted: list[Skill]
    digests: dict[str, str]  # trusted skill -> its pinned digest
    untrusted: dict[str, SkillTrust] = field(default_factory=dict)
    untrusted_skills: list[Skill] = field(default_factory=list)
    egress: dict[str, tuple[str, ...]] = field(default_factory=dict)  # trusted skill -> allowed hosts

    def trust_of(self, name: str) -> SkillTrust:
        if name in self.digests:
            return SkillTrust.TRUSTED
        if name in self.untrusted:
            return self.untrusted[name]
        # Not a valid skill of the workspace (gone, or broken since it was attached): changed.
        return SkillTrust.CHANGED


def sort_skills(skills: Iterable[Skill], pinned: dict[str, pins.Pin]) -> SkillSet:
    result = SkillSet(trusted=[], digests={})
    for skill in skills:
        pin = pinned.get(skill.name)
        trust = pins.trust(skill.folder, pin.digest if pin else None)
        if pin is not None and trust is SkillTrust.TRUSTED:
            result.trusted.append(skill)
            result.digests[skill.name] = pin.digest
            if pin.network_allowed and skill.manifest.network:  # as declared when pinned
                result.egress[skill.name] = skill.manifest.network
        else:
            result.untrusted[skill.name] = trust
            result.untrusted_skills.append(skill)
    return result


def explain(name: str, trust: SkillTrust) -> str:
    if trust is SkillTrust.UNPINNED:
        return f"skill {name} was never attached by an admin; an admin must attach it before it runs"
    return f"skill {name} changed since it was attached; an admin must re-attach it"


def _script_in_skill(command: str, skill: str) -> bool:
    """Whether the command runs a script inside skills/<skill>/ (no `..` out of it)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if len(argv) < 2:
        return False
    return posixpath.normpath(argv[1]).startswith(f"skills/{skill}/")


def split_commands(commands: Sequence[str], skills: SkillSet) -> tuple[list[str], list[tuple[str, str]]]:
    """Heartbeat commands that may run, and (command, skill) for those that may not."""
    allowed: list[str] = []
    refused: list[tuple[str, str]] = []
    for command in commands:
        skill = skill_of(command)
        if skills.trust_of(skill) is SkillTrust.TRUSTED and _script_in_skill(command, skill):
            allowed.append(command)
        else:
            refused.append((command, skill))
    return allowed, refused


def refusals(
    skills: SkillSet,
    *,
    tasks: Sequence[str],
    chosen: Sequence[str],
    commands: Sequence[tuple[str, str]],
) -> list[tuple[str, SkillTrust, str]]:
    """(skill, trust, what asked for it) for every untrusted skill the tasks, the model or the
    heartbeat asked to run, each once."""
    found: dict[str, tuple[str, SkillTrust, str]] = {}
    for match in match_skills(list(tasks), [s.manifest for s in skills.untrusted_skills]):
        found.setdefault(match.skill_name, (match.skill_name, skills.untrusted[match.skill_name], match.task))
    for name in chosen:
        if name in skills.untrusted:
            found.setdefault(name, (name, skills.untrusted[name], "chosen by the model"))
    for command, skill in commands:
        found.setdefault(skill, (skill, skills.trust_of(skill), f"heartbeat: {command}"))
    return list(found.values())


def events(
    refused: Sequence[tuple[str, SkillTrust, str]], *, tenant_id: str, agent_id: str, run_id: str
) -> list[NewEvent]:
    return [
        NewEvent(
            type=EventType.SKILL_UNTRUSTED,
            tenant_id=tenant_id,
            agent_id=agent_id,
            run_id=run_id,
            message=explain(name, trust),
            payload={"skill": name, "trust": str(trust), "reason": reason},
        )
        for name, trust, reason in refused
    ]


def stamp(steps: Sequence[PlannedStep], skills: SkillSet) -> list[PlannedStep]:
    """The steps, each tool step carrying the digest its skill was planned with (and the network
    destinations an admin allowed it)."""
    stamped: list[PlannedStep] = []
    for step in steps:
        if isinstance(step.spec, ToolSpec):
            skill = step.spec.skill
            pinned = {"skill_digest": skills.digests.get(skill), "egress": skills.egress.get(skill, ())}
            step = replace(step, spec=step.spec.model_copy(update=pinned))
        stamped.append(step)
    return stamped


def refusal(workspace: Path, *, skill: str, command: str, digest: str | None) -> str | None:
    """Why a planned tool step must not run now (its skill is not as planned), or None. (An MCP
    skill's command names its tool; the executor checks it against the skill's SKILL.md.)"""
    runs_own = _script_in_skill(command, skill) or is_mcp_command(command)
    if digest is None or not NAME_PATTERN.fullmatch(skill) or not runs_own:
        return explain(skill, SkillTrust.UNPINNED)
    trust = pins.trust(workspace / "skills" / skill, digest)
    return None if trust is SkillTrust.TRUSTED else explain(skill, trust)
