"""Which skills apply to which tasks, and how well a message fits a set of skills (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol


class Triggered(Protocol):
    """Anything with a skill name and trigger phrases (a `SkillManifest`, a DB row...)."""

    @property
    def name(self) -> str: ...

    @property
    def triggers(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class SkillMatch:
    """A skill whose `trigger` occurs in `task` (the first task, in order, that mentions it)."""

    skill_name: str
    task: str
    task_index: int
    trigger: str


@dataclass(frozen=True)
class SkillScore:
    """How strongly a text points at a skill; higher is better."""

    skill_name: str
    score: int
    triggers: tuple[str, ...]


@lru_cache(maxsize=1024)
def _pattern(phrase: str) -> re.Pattern[str]:
    # Whole words only ("mail" must not match "mailbox"); any run of spaces between the words.
    words = [re.escape(word) for word in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def trigger_in(trigger: str, text: str) -> bool:
    """True when `trigger` appears in `text` as a whole word or phrase, ignoring case."""
    return bool(trigger.split()) and _pattern(trigger.lower()).search(text) is not None


def _hits(skill: Triggered, text: str) -> Iterable[str]:
    return (trigger for trigger in skill.triggers if trigger_in(trigger, text))


def match_skills(tasks: Sequence[str], skills: Sequence[Triggered]) -> list[SkillMatch]:
    """Each skill at most once, with the first task that triggers it, in task order."""
    matches: list[SkillMatch] = []
    seen: set[str] = set()
    for index, task in enumerate(tasks):
        for skill in skills:
            if skill.name in seen:
                continue
            trigger = next(iter(_hits(skill, task)), None)
            if trigger is not None:
                seen.add(skill.name)
                matches.append(SkillMatch(skill.name, task, index, trigger))
    return matches


def score_skills(text: str, skills: Sequence[Triggered]) -> list[SkillScore]:
    """Skills mentioned by `text`, best first (ties by name); unmentioned skills are left out.

    Each distinct trigger found scores its number of words (a phrase is stronger evidence than a
    word); naming the skill itself ("mail triage", "mail-triage") adds 2.
    """
    scores: list[SkillScore] = []
    for skill in skills:
        found = tuple(dict.fromkeys(_hits(skill, text)))
        score = sum(len(trigger.split()) for trigger in found)
        if trigger_in(skill.name, text) or trigger_in(skill.name.replace("-", " "), text):
            score += 2
        if score:
            scores.append(SkillScore(skill.name, score, found))
    return sorted(scores, key=lambda s: (-s.score, s.skill_name))
