"""Health, Prometheus metrics, request ids and structured logs."""
