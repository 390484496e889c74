"""Fleet: tenants, clouds, nodes and provisioning agents onto them (admin only)."""
