"""Sandboxed tool runner: runs one skill script inside an agent's workspace."""
