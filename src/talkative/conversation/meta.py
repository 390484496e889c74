"""Meta-requests: things an operator asks of the agent itself ("run heartbeat now"), not business tasks.

They are planned like any task (the planner acts on them) but never become workflow nodes: the
workflow maps the business, not the commands given to the agent about it. Pure.
"""

from __future__ import annotations

HEARTBEAT_WORDS = ("heartbeat", "latido")


def asks_for_heartbeat(task: str) -> bool:
    return any(word in task.lower() for word in HEARTBEAT_WORDS)


def is_meta_request(task: str) -> bool:
    """True for a task that is a command to the agent (today: running its heartbeat)."""
    return asks_for_heartbeat(task)
