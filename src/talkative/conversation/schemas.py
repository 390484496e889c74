"""Data shapes of an interpretation: the tasks found in a message and the graph they suggest."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

# Bounds shared by every interpreter (local or LLM) so absurd input or output stays small.
MAX_TASKS = 20
MAX_TASK_CHARS = 200
MAX_ID_CHARS = 128
# What an interpretation keeps of the tasks dropped over MAX_TASKS (their count is kept whole).
MAX_DROPPED_NAMES = 50

TaskName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TASK_CHARS)]
TaskId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS)]
Language = Literal["en", "es"]


def task_key(name: str) -> str:
    """The identity of a task name: two names are the same task when their keys are equal.

    Case- and whitespace-insensitive, so "Send  report" and "SEND REPORT" are one task both
    when a message is split and when a patch looks for a task already in the workflow.
    """
    return " ".join(name.split()).casefold()


class Task(BaseModel):
    id: TaskId
    name: TaskName
    meta: bool = False  # a command to the agent ("run heartbeat now"): planned, never a workflow node


class TaskLink(BaseModel):
    """`source` runs before `target` (task ids)."""

    source: TaskId
    target: TaskId


class SuggestedNode(BaseModel):
    id: TaskId
    name: TaskName
    description: str = Field(default="", max_length=2000)
    status: Literal["pending"] = "pending"


class SuggestedEdge(BaseModel):
    id: TaskId
    source: TaskId
    target: TaskId


class Suggestions(BaseModel):
    """What the interpretation proposes to add to a workflow graph."""

    nodes: list[SuggestedNode] = Field(default_factory=list, max_length=MAX_TASKS)
    edges: list[SuggestedEdge] = Field(default_factory=list, max_length=MAX_TASKS)


class Interpretation(BaseModel):
    tasks: list[Task] = Field(default_factory=list, max_length=MAX_TASKS)
    links: list[TaskLink] = Field(default_factory=list, max_length=MAX_TASKS)
    suggestions: Suggestions = Field(default_factory=Suggestions)
    language: Language | None = None
    summary: str = ""
    # Tasks past the limit, not planned: the first names, and how many there were in all.
    dropped_tasks: list[TaskName] = Field(default_factory=list, max_length=MAX_DROPPED_NAMES)
    dropped_count: int = Field(default=0, ge=0)
