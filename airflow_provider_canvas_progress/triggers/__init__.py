"""Triggers: wait on a Canvas Progress in the triggerer."""
