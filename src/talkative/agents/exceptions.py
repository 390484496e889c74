from __future__ import annotations

from talkative.errors import Conflict, InvalidInput, NotFound, TalkativeError


class AgentNotFound(NotFound):
    code = "AGENT_NOT_FOUND"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent '{agent_id}' not found")


class AgentExists(Conflict):
    code = "AGENT_EXISTS"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"an agent with id '{agent_id}' already exists; choose another id")


class AgentNotRunning(Conflict):
    code = "AGENT_NOT_RUNNING"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent '{agent_id}' is stopped; start it with POST /agents/{agent_id}/start")


class AgentAmbiguous(Conflict):
    code = "AGENT_AMBIGUOUS"

    def __init__(self, agent_id: str) -> None:
        super().__init__(
            f"several tenants have an agent '{agent_id}'; name the tenant with ?tenant_id= "
            "(or tenant_id in the body)"
        )


class WorkspaceTaken(Conflict):
    code = "WORKSPACE_TAKEN"

    def __init__(self, folder: str) -> None:
        super().__init__(f"workspace '{folder}' belongs to another agent of this tenant; choose another")


class InvalidFilePath(InvalidInput):
    code = "INVALID_FILE_PATH"


class FileNotInWorkspace(NotFound):
    code = "FILE_NOT_FOUND"

    def __init__(self, path: str) -> None:
        super().__init__(f"no regular file '{path}' in the agent's workspace (links are not followed)")


class UploadOverQuota(TalkativeError):
    status, code = 413, "WORKSPACE_QUOTA"
