"""The integrity check: the database engine's own checks, then the domain's invariants."""
