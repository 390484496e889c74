from __future__ import annotations

from talkative.errors import Conflict, InvalidInput, NotFound, TalkativeError


class CloudNotFound(NotFound):
    code = "CLOUD_NOT_FOUND"

    def __init__(self, cloud_id: str) -> None:
        super().__init__(f"cloud '{cloud_id}' not found")


class NodeNotFound(NotFound):
    code = "NODE_NOT_FOUND"

    def __init__(self, node_id: str) -> None:
        super().__init__(f"node '{node_id}' not found")


class FleetAgentNotFound(NotFound):
    code = "FLEET_AGENT_NOT_FOUND"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"fleet agent '{agent_id}' not found")


class FleetAgentAmbiguous(Conflict):
    code = "FLEET_AGENT_AMBIGUOUS"

    def __init__(self, agent_id: str) -> None:
        super().__init__(
            f"several tenants have a fleet agent '{agent_id}'; name the tenant with ?tenant_id= "
            "(or tenant_id in the body)"
        )


class FleetConflict(Conflict):
    """A tenant, cloud, node or agent that already exists (by id, or by name within the tenant)."""


class UnknownSkill(InvalidInput):
    code = "UNKNOWN_SKILL"


class ProvisionError(TalkativeError):
    """Laying an agent out on a node failed; recorded on the placement (and the node) before raised.

    `node_status` is what the failure says about the node, or None when the node is not to blame.
    """

    node_status: str | None = "error"


class NodeUnreachable(ProvisionError):
    """SSH could not connect, authenticate or verify the host key, or timed out."""

    status, code, node_status = 502, "NODE_UNREACHABLE", "unreachable"


class ProvisionFailed(ProvisionError):
    """The node was reached (or is this machine) but the workspace could not be written."""

    status, code, node_status = 502, "PROVISION_FAILED", "error"


class UnsafeBasePath(ProvisionError):
    """A local node's folder resolves outside TALKATIVE_FLEET_LOCAL_ROOT."""

    status, code, node_status = 422, "UNSAFE_BASE_PATH", "error"


class SshNotConfigured(ProvisionError):
    """The server has no SSH key or known_hosts file configured (or no ssh client)."""

    status, code, node_status = 503, "FLEET_SSH_NOT_CONFIGURED", None
