from __future__ import annotations

from pydantic import BaseModel

from talkative.skills.manifest import Skill


class SkillRead(BaseModel):
    name: str
    description: str
    triggers: list[str]
    command: str
    requires_approval: bool
    heartbeat: bool
    network: list[str] = []


class SkillPage(BaseModel):
    skills: list[SkillRead]


def skill_read(skill: Skill) -> SkillRead:
    m = skill.manifest
    return SkillRead(
        name=m.name, description=m.description, triggers=list(m.triggers), command=m.command,
        requires_approval=m.requires_approval, heartbeat=m.heartbeat, network=list(m.network),
    )  # fmt: skip
