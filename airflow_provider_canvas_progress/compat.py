"""Everything that differs between Airflow 2.11 and Airflow 3, in one place.

Other modules import Airflow's base classes and exceptions from here, never from ``airflow.*``
directly, so a version difference is handled once. Where ``common.compat`` already bridges a name
we take it from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    ObjectStoragePath,
    PokeReturnValue,
    conf,
    mask_secret,
)
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_3_PLUS
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TriggerEvent

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Connection, Context
else:
    try:
        from airflow.sdk import Context
    except ImportError:  # Airflow 2
        from airflow.utils.context import Context

#: Whether the triggerer renders a trigger's template fields (``start_from_trigger`` with templates).
#: Airflow 3 does; Airflow 2's BaseTrigger has no template support, so templates would reach Canvas raw.
TRIGGER_RENDERS_TEMPLATES: bool = hasattr(BaseTrigger, "render_template_fields")

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "TRIGGER_RENDERS_TEMPLATES",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "ObjectStoragePath",
    "PokeReturnValue",
    "StartTriggerArgs",
    "TriggerEvent",
    "aget_connection",
    "conf",
    "default_deferrable",
    "mask_secret",
]


async def aget_connection(conn_id: str) -> Connection:
    """Read a connection without blocking the event loop.

    Airflow 3's task SDK offers ``BaseHook.aget_connection``; calling the sync ``get_connection``
    from a trigger there can deadlock the triggerer's supervisor channel. Airflow 2 has no async
    variant, so its (database) read runs in a thread instead.
    """
    if AIRFLOW_V_3_0_PLUS:
        return await BaseHook.aget_connection(conn_id)  # type: ignore[no-any-return,attr-defined]
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)  # type: ignore[no-any-return]


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, read when an operator is built (as core operators do)."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def connection_extras(conn: Any) -> dict[str, Any]:
    """A connection's extras as a dict on both versions (``extra_dejson`` exists on each)."""
    extras = getattr(conn, "extra_dejson", None)
    return dict(extras) if isinstance(extras, dict) else {}
