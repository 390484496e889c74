"""MCP servers as skills: a tenant's admins register MCP servers; their tools become skills."""
