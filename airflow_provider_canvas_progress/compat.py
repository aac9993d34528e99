"""Everything that differs between the supported Airflows (2.11, 3.0 to 3.3), in one place.

Other modules import Airflow's base classes and exceptions from here, never from ``airflow.*``
directly, so a version difference is handled once. Where ``common.compat`` already bridges a name
we take it from there.
"""

from __future__ import annotations

import importlib.util
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
)
from airflow.providers.common.compat.version_compat import (
    AIRFLOW_V_3_0_PLUS,
    AIRFLOW_V_3_2_PLUS,
    AIRFLOW_V_3_3_PLUS,
)
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TriggerEvent

try:
    from airflow.providers.common.compat.sdk import mask_secret
except ImportError:  # older common-compat (1.20, the newest on Python 3.10, lacks it): its homes, newest first
    try:
        from airflow.sdk.log import mask_secret  # type: ignore[no-redef, unused-ignore]
    except ImportError:
        try:
            from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef, unused-ignore]
        except ImportError:  # Airflow 2
            from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef, unused-ignore]

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


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it (Flask AppBuilder is heavy)."""
    return importlib.util.find_spec(module) is not None


#: Whether this Airflow's UI shows the ``canvas`` connection form (relabelled fields, the auth fields).
#: Airflow 2 and 3.0/3.1 build a provider's form only when Flask AppBuilder and WTForms are installed
#: (their ProvidersManager imports ``wtforms`` before calling the hook; a plain Airflow 3.0/3.1 has neither,
#: the FAB provider brings them); Airflow >= 3.2 reads it from the provider info. Without it the UI shows
#: Airflow's generic form, and the auth settings go in the Extra field as JSON (docs/connection.md).
CONNECTION_FORM_SHOWN: bool = AIRFLOW_V_3_2_PLUS or (_installed("wtforms") and _installed("flask_appbuilder"))

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "CONNECTION_FORM_SHOWN",
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
    "IncompatibleStorageLibrary",
    "ObjectStoragePath",
    "PokeReturnValue",
    "StartTriggerArgs",
    "TriggerEvent",
    "aconnection_extras",
    "aget_connection",
    "conf",
    "default_deferrable",
    "mask_secret",
    "object_storage_path",
    "task_state_store",
]


async def aget_connection(conn_id: str) -> Connection:
    """Read a connection without blocking the event loop, and without deadlocking the triggerer.

    Calling the sync ``get_connection`` from a trigger on Airflow 3 can deadlock the triggerer's
    supervisor channel, and ``BaseHook.aget_connection`` (Airflow 3.1+) masks the connection's secrets
    with a synchronous call to the supervisor before Airflow 3.3.2, which raises ``DeadlockImminentError``
    when another async call is in flight. common-compat's ``get_async_connection`` chooses per version, as
    its documentation recommends: ``aget_connection`` from 3.3.2 on, otherwise ``get_connection`` in a
    worker thread (Airflow 2 and 3.0, which have no ``aget_connection``, included). A common-compat
    too old to offer it gets that worker-thread read, which is safe on every version.
    """
    try:
        from airflow.providers.common.compat.connection import get_async_connection
    except ImportError:  # common-compat older than the bridge
        from asgiref.sync import sync_to_async

        return await sync_to_async(BaseHook.get_connection)(conn_id)  # type: ignore[no-any-return]
    return await get_async_connection(conn_id)


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, read when an operator is built (as core operators do)."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def connection_extras(conn: Any) -> dict[str, Any]:
    """A connection's extras as a dict on both versions (``extra_dejson`` exists on each)."""
    extras = getattr(conn, "extra_dejson", None)
    return dict(extras) if isinstance(extras, dict) else {}


class IncompatibleStorageLibrary(TypeError):
    """This Airflow's ``ObjectStoragePath`` cannot work with the installed universal-pathlib."""


def object_storage_path(url: str, conn_id: str | None = None) -> Any:
    """``ObjectStoragePath(url, conn_id=...)``, with a clear error where the pair of libraries cannot work.

    Airflow 2.11 and 3.0 declare ``universal-pathlib>=0.2.2`` without an upper bound, but their
    ``ObjectStoragePath`` predates universal-pathlib 0.3, which refuses every path it is given ("detected
    protocol file which is incompatible with ObjectStoragePath"). Airflow 3.1 caps it below 0.3 and 3.2
    works with 0.3, and each release's own constraints file pins a version that works. An installation made
    without those constraints meets the refusal on the first file written; it is turned into an error that
    says what to install.

    :raises IncompatibleStorageLibrary: the installed universal-pathlib is too new for this Airflow.
    """
    try:
        return ObjectStoragePath(url, conn_id=conn_id) if conn_id else ObjectStoragePath(url)
    except TypeError as error:
        if "incompatible with ObjectStoragePath" not in str(error):
            raise
        from importlib.metadata import version

        raise IncompatibleStorageLibrary(
            f"This Airflow's ObjectStoragePath cannot use universal-pathlib {version('universal-pathlib')} "
            f"({error}). Install the version your Airflow's constraints file pins "
            "(pip install 'universal-pathlib<0.3' for Airflow 2.11 and 3.0)."
        ) from None


def task_state_store(context: Any) -> Any | None:
    """The task state store of a running try (Airflow >= 3.3 puts it in the context), or None.

    Kept across a task instance's tries and reschedules; durable retries and the reschedule-mode stall
    watch keep their records there. Older versions have none, and then those records have nowhere to live.
    """
    if not AIRFLOW_V_3_3_PLUS:
        return None
    getter = getattr(context, "get", None)
    return getter("task_state_store") if callable(getter) else None


async def aconnection_extras(conn: Any) -> dict[str, Any]:
    """:func:`connection_extras` for the event loop, without deadlocking the triggerer.

    ``extra_dejson`` masks the extras' secrets with a synchronous call to the supervisor, which raises
    ``DeadlockImminentError`` when another async call is in flight. common-compat's
    ``get_async_extra_dejson`` awaits ``aextra_dejson`` from Airflow 3.3.2 on and reads ``extra_dejson`` in
    a worker thread before; a common-compat too old to offer it gets that worker-thread read.
    """
    try:
        from airflow.providers.common.compat.connection import get_async_extra_dejson
    except ImportError:  # common-compat older than the bridge
        from asgiref.sync import sync_to_async

        return await sync_to_async(connection_extras)(conn)
    extras = await get_async_extra_dejson(conn)
    return dict(extras) if isinstance(extras, dict) else {}
