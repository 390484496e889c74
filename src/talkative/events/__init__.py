"""Events: the typed event envelope, the event store and the bus that feeds SSE subscribers."""
