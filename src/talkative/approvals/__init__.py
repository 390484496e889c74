"""Approvals: human gates in front of sensitive steps."""
