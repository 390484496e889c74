"""Turning detected tasks into a run's plan: skill runs, and human approvals before sensitive steps.

Pure: tasks, skills and the policy in, planned steps out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from talkative.conversation.meta import HEARTBEAT_WORDS as HEARTBEAT_WORDS
from talkative.conversation.meta import asks_for_heartbeat as asks_for_heartbeat
from talkative.conversation.meta import is_meta_request
from talkative.runs.reducer import StepKind
from talkative.runs.specs import ApprovalSpec, StepSpec, TaskSpec, ToolSpec
from talkative.skills.matching import Triggered, match_skills, trigger_in

_SKILL_IN_COMMAND = re.compile(r"skills/([a-z0-9][a-z0-9-]*)/")


class SkillLike(Triggered, Protocol):
    @property
    def command(self) -> str: ...

    @property
    def requires_approval(self) -> bool: ...


@dataclass(frozen=True)
class PlannedStep:
    name: str
    spec: StepSpec
    task: str | None = None  # the business task it executes (so its workflow node), if any
    node_id: str | None = None  # that task's node, once the workflow is patched

    @property
    def kind(self) -> StepKind:
        return self.spec.kind


def skill_of(command: str) -> str:
    match = _SKILL_IN_COMMAND.search(command)
    return match.group(1) if match else "command"


def sensitive_word(task: str, keywords: Sequence[str]) -> str | None:
    """The policy keyword that makes this task sensitive (whole words, any case), if any."""
    lowered = task.lower()
    for word in keywords:
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered):
            return word
    return None


def unmatched_tasks(tasks: Sequence[str], skills: Sequence[Triggered]) -> list[str]:
    """The business tasks no skill's trigger matches (meta-requests are the agent's own business)."""
    return [
        task
        for task in tasks
        if not is_meta_request(task)
        and not any(trigger_in(trigger, task) for skill in skills for trigger in skill.triggers)
    ]


def plan(
    tasks: Sequence[str],
    skills: Sequence[SkillLike],
    *,
    heartbeat_commands: Sequence[str],
    sensitive_keywords: Sequence[str],
    chosen: Sequence[str] = (),
    heartbeat_skills: Sequence[SkillLike] = (),
) -> list[PlannedStep]:
    """The plan for `tasks`: matched skills (and those a model `chosen` by name), gated as needed.
    `heartbeat_skills`: skills that heartbeat commands may run without being matched to a task (a
    scheduled heartbeat), known so that one requiring approval is gated there too."""
    by_name = {s.name: s for s in [*heartbeat_skills, *skills]}
    matches = match_skills(list(tasks), list(skills))
    steps: list[PlannedStep] = []
    planned_commands: set[str] = set()

    def gate(reason: str, task: str, guarded: list[PlannedStep], of_task: str | None = None) -> None:
        first = len(steps) + 1
        guards = tuple(range(first, first + len(guarded)))
        approve = ApprovalSpec(reason=reason, task=task, guards=guards)
        steps.append(PlannedStep(f"Approve: {task}", approve, task=of_task))
        steps.extend(guarded)

    for index, task in enumerate(tasks):
        work: list[PlannedStep] = []
        node_task = None if is_meta_request(task) else task  # a meta-request has no node
        for match in (m for m in matches if m.task_index == index):
            skill = by_name[match.skill_name]
            if skill.command in planned_commands:
                continue
            planned_commands.add(skill.command)
            tool = PlannedStep(
                f"Run {skill.name}",
                ToolSpec(skill=skill.name, command=skill.command, reason=task),
                task=node_task,
            )
            if skill.requires_approval:
                gate(f"skill {skill.name} requires approval", task, [tool], node_task)
            else:
                work.append(tool)
        if asks_for_heartbeat(task):
            for command in heartbeat_commands:
                if command not in planned_commands:
                    planned_commands.add(command)
                    name = skill_of(command)
                    beat = PlannedStep(
                        f"Heartbeat: {name}",
                        ToolSpec(skill=name, command=command, reason="heartbeat"),
                        task=node_task,
                    )
                    owner = by_name.get(name)
                    if owner is not None and owner.requires_approval:  # a heartbeat is no way around it
                        gate(f"skill {name} requires approval", task, [beat], node_task)
                    else:
                        work.append(beat)
        word = sensitive_word(task, sensitive_keywords)
        if word is not None:
            gate(
                f"'{task}' is sensitive (policy keyword '{word}')",
                task,
                work or [PlannedStep(task, TaskSpec(task=task), task=node_task)],
                node_task,
            )
        else:
            steps.extend(work)
    for name in chosen:  # skills a model picked that no trigger matched
        picked = by_name.get(name)
        if picked is None or picked.command in planned_commands:
            continue
        planned_commands.add(picked.command)
        tool = PlannedStep(
            f"Run {name}", ToolSpec(skill=name, command=picked.command, reason="chosen by the model")
        )
        if picked.requires_approval:
            gate(f"skill {name} requires approval", f"run {name}", [tool])
        else:
            steps.append(tool)
    return steps
