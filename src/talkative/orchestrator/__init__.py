"""Orchestrator: runs, their pure state reducer, and the flows that span domains (the message loop)."""
