"""Agents: the tenant-scoped registry of agents and their lifecycle."""
