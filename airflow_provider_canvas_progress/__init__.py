"""Apache Airflow provider for Canvas LMS asynchronous jobs (Progress objects)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
