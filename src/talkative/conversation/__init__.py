"""Conversation: plain language into tasks (the interpreter interface and its local implementation)."""
