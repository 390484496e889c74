"""What a reply must tell the operator besides what ran: tasks no skill matched, tasks dropped over
the limit, a heartbeat with nothing to run, a workflow left as it was. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from talkative.runs.schemas import Notice


def _listed(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def notices_for(
    *,
    unmatched: Sequence[str] = (),
    dropped: Sequence[str] = (),
    dropped_count: int = 0,
    kept: int = 0,
    heartbeat_asked: bool = False,
    heartbeat_lines: int = 0,
    workflow_changed: bool = True,
    version: int = 0,
) -> list[Notice]:
    """The notices of one planned message, in the order the reply says them."""
    found: list[Notice] = []
    if unmatched:
        plural = "" if len(unmatched) == 1 else "s"
        found.append(
            Notice(
                code="TASKS_UNMATCHED",
                message=f"No skill matched {len(unmatched)} task{plural}: {_listed(unmatched)}.",
                items=list(unmatched),
                count=len(unmatched),
            )
        )
    if dropped_count:
        more = f" (and {dropped_count - len(dropped)} more)" if dropped_count > len(dropped) else ""
        found.append(
            Notice(
                code="TASKS_DROPPED",
                message=(
                    f"{dropped_count} more task{'' if dropped_count == 1 else 's'} dropped over the limit of "
                    f"{kept} per message, not planned: {_listed(dropped)}{more}."
                ),
                items=list(dropped),
                count=dropped_count,
            )
        )
    if heartbeat_asked and heartbeat_lines == 0:
        found.append(
            Notice(
                code="HEARTBEAT_EMPTY",
                message="No heartbeat ran: this agent's HEARTBEAT.md has no RUN lines.",
            )
        )
    if not workflow_changed:
        found.append(Notice(code="WORKFLOW_UNCHANGED", message=f"Workflow unchanged (still v{version})."))
    return found


def sentences(notices: Sequence[Notice]) -> str:
    return " ".join(notice.message for notice in notices)
