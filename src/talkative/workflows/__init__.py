"""Workflows: versioned graphs of tasks and the patches that change them."""
