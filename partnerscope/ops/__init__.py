"""Operational commands: serve, worker, demo, createorg, createuser, backup and restore."""
