"""Operators: start, cancel and branch on Canvas jobs."""
