"""Bounded input: the request gate (body size, strict JSON, clean URLs) and the schemas' bounded types."""
