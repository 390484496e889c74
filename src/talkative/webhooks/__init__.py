"""Outbound webhooks: tenants subscribe URLs to event types, delivered signed from the event log."""
