"""The sans-IO core: Canvas's protocol, the Progress model, errors and retry policy.

Nothing in this package imports Airflow, requests or aiohttp; the hook does the I/O.
"""
