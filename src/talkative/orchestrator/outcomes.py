"""The critical loop's outcome for one operator message, as the rollback triggers count it.

Pure: it reads only the reply the loop answered with. The outcomes (docs/operations.md, "Critical
loop metrics"):

- `no_events`: the reply's events lack the loop's progression for its run: MESSAGE_RECEIVED and
  INTERPRETATION_RESULT (every planned message records both, whatever else happens);
- `no_patch`: the interpreter suggested workflow nodes (business tasks; meta-requests such as "run
  heartbeat" never become nodes) yet the run recorded no patch, or recorded operations it did not
  apply. A patch with no operations because the workflow maps every task already (a repeated
  message) is a success, not a failure;
- `ok` otherwise; `error` is the route's to count (it raised, or answered 5xx).
"""

from __future__ import annotations

from enum import StrEnum

from talkative.events.schemas import EventType
from talkative.runs.schemas import MessageReply

PROGRESSION = frozenset({EventType.MESSAGE_RECEIVED, EventType.INTERPRETATION_RESULT})


class LoopOutcome(StrEnum):
    OK = "ok"
    NO_PATCH = "no_patch"
    NO_EVENTS = "no_events"
    ERROR = "error"


def expects_patch(reply: MessageReply) -> bool:
    suggestions = reply.interpretation.get("suggestions") or {}
    return bool(suggestions.get("nodes"))


def patch_applied(reply: MessageReply) -> bool:
    """The run recorded its patch (`version` is set once it was applied to the workflow), and did
    not mark as unchanged a patch that had operations to apply."""
    patch = reply.workflowPatch
    if "version" not in patch:
        return False
    return not (patch.get("operations") and patch.get("unchanged"))


def outcome_of(reply: MessageReply) -> LoopOutcome:
    seen = {event.type for event in reply.events if event.run_id == reply.run_id}
    if not PROGRESSION.issubset(seen):
        return LoopOutcome.NO_EVENTS
    if expects_patch(reply) and not patch_applied(reply):
        return LoopOutcome.NO_PATCH
    return LoopOutcome.OK
