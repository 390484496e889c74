"""Cluster mode on PostgreSQL: the process registry (one signing secret for all), the shared
workspaces root's marker, and the election of the one process that runs the singleton loops."""
