"""Approval requests by email: per-tenant recipients, a signed one-click link, sent from the event log."""
