"""Hooks: authenticated HTTP to Canvas."""
