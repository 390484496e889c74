"""The Model Context Protocol server at `/mcp` (docs/mcp.md)."""
