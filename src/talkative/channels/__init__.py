"""Channels: external client messages and the operator audit trail, routed through the orchestrator."""
