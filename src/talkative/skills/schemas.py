from __future__ import annotations

from pydantic import BaseModel

from talkative.skills.manifest import McpRef, Skill
from talkative.skills.pins import SkillTrust


class SkillRead(BaseModel):
    name: str
    description: str
    triggers: list[str]
    command: str
    requires_approval: bool
    heartbeat: bool
    network: list[str] = []
    mcp: McpRef | None = None  # an MCP server's tool (mcp_skills/): its server, tool and pinned digest
    # An agent's skills only: whether it runs (`trusted`: as an admin attached it), or not until an
    # admin re-attaches it (`changed` since then, or `unpinned`: never attached).
    trust: SkillTrust | None = None
    # An agent's skills only: whether an admin let it reach the hosts in `network` (egress proxy).
    network_allowed: bool | None = None


class SkillPage(BaseModel):
    skills: list[SkillRead]


def skill_read(
    skill: Skill, trust: SkillTrust | None = None, network_allowed: bool | None = None
) -> SkillRead:
    m = skill.manifest
    return SkillRead(
        name=m.name, description=m.description, triggers=list(m.triggers), command=m.command,
        requires_approval=m.requires_approval, heartbeat=m.heartbeat, network=list(m.network), mcp=m.mcp,
        trust=trust, network_allowed=network_allowed,
    )  # fmt: skip
