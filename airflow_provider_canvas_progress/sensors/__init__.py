"""Sensors: wait on a Canvas Progress."""
