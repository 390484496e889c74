"""Prompts: versioned prompt templates per tenant and agent, one active at a time."""
