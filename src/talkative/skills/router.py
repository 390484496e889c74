from __future__ import annotations

from fastapi import APIRouter

from talkative.auth.dependencies import Reader
from talkative.errors import ERROR_RESPONSES
from talkative.skills import catalogue
from talkative.skills.schemas import SkillPage, skill_read

router = APIRouter(tags=["skills"], responses=ERROR_RESPONSES)


@router.get("/skills", operation_id="listSkills")
async def list_skills(_: Reader) -> SkillPage:
    """The skill templates that can be attached to an agent."""
    return SkillPage(skills=[skill_read(s) for s in catalogue.list_templates()])
