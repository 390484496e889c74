from __future__ import annotations

from talkative.errors import NotFound


class WorkflowNotFound(NotFound):
    code = "WORKFLOW_NOT_FOUND"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow '{workflow_id}' not found")


class NodeNotFound(NotFound):
    code = "NODE_NOT_FOUND"

    def __init__(self, workflow_id: str, node_id: str) -> None:
        super().__init__(f"node '{node_id}' not found in workflow '{workflow_id}'")
