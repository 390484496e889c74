"""MCP servers registered by an admin whose tools become skills."""
