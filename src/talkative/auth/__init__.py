"""Authentication (HS256 JWT), principals, the role x permission policy and tenant scoping."""
