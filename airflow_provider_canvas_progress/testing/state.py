"""Everything one simulator holds, shared by the HTTP handlers and the Python API."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog
from .clock import Clock, WallTime
from .developer_keys import DeveloperKeys
from .faults import FaultQueue
from .identity import Identity
from .jobs import JobScript, Outcome
from .recorder import RequestLog, SimulatorStats
from .render import global_id, progress_json
from .store import ProgressRecord, ProgressStore
from .throttle import BucketSettings, RequestThrottle

__all__ = ["SimulatorSettings", "SimulatorState"]


@dataclass(frozen=True)
class SimulatorSettings:
    """Behaviour switches that differ between Canvas instances.

    :param permission_status: 403 (hosted Canvas) or 401 (older instances) for permission errors.
    :param throttle_status: 403 (older instances) or 429 (hosted Canvas from October 2025).
    :param latency: seconds every API request stays in flight (so concurrent requests hold
        up-front cost in the bucket at the same time).
    :param global_ids: serve Progress ids in global form (``shard * 10**13 + local``).
    """

    permission_status: int = 403
    throttle_status: int = 403
    latency: float = 0.0
    global_ids: bool = False


class SimulatorState:
    """The store, the identities, the developer keys, the catalog, the throttle, the faults and the request log."""

    def __init__(
        self,
        *,
        clock: Clock,
        wall: WallTime,
        settings: SimulatorSettings,
        bucket: BucketSettings,
        throttle_enabled: bool,
        default_script: JobScript,
        record_limit: int,
    ) -> None:
        self.clock = clock
        self.wall = wall
        self.settings = settings
        self.store = ProgressStore(default_script)
        self.identity = Identity()
        self.developer_keys = DeveloperKeys()
        self.catalog = Catalog()
        self.throttle = RequestThrottle(bucket, clock, enabled=throttle_enabled)
        self.faults = FaultQueue()
        self.log = RequestLog(record_limit)
        self.started_at = clock.now()
        self._object_ids = itertools.count(1)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The simulator clock's reading."""
        return self.clock.now()

    def next_object_id(self) -> int:
        """A fresh id for content migrations and exports."""
        with self._lock:
            return next(self._object_ids)

    def public_id(self, local_id: int) -> int:
        """The Progress id as served (global when ``global_ids`` is on)."""
        return global_id(local_id) if self.settings.global_ids else local_id

    def start_job(
        self,
        *,
        tag: str,
        context_type: str,
        context_id: int,
        user_id: int | None,
        result: tuple[Outcome, str | None] | None = None,
        results: Any = None,
    ) -> ProgressRecord:
        """Create the Progress of a job a Canvas call started, with the next queued script.

        :param result: the outcome and message the job itself would reach (used only when the
            script leaves them open, see :class:`JobScript`).
        """
        script = self.store.take_script(tag)
        if result is not None:
            script = script.with_result(result[0], result[1], results)
        return self.store.create(
            tag=tag,
            context_type=context_type,
            context_id=context_id,
            user_id=user_id,
            script=script,
            now=self.now(),
        )

    def progress_body(self, local_id: int, base_url: str, *, url: str | None = None) -> dict[str, Any] | None:
        """The Progress JSON as served now, or ``None`` if unknown.

        :param base_url: ``scheme://host[:port]`` of the request, for the ``url`` field.
        :param url: a replacement ``url`` (the LTI endpoint serves its own path).
        """
        view = self.store.view(local_id, self.now())
        if view is None:
            return None
        public = self.public_id(local_id)
        return progress_json(
            view,
            url=url or f"{base_url}/api/v1/progress/{public}",
            wall=self.wall,
            global_ids=self.settings.global_ids,
        )

    def stats(self) -> SimulatorStats:
        """The counters, throttle included."""
        throttled, max_in_flight = self.throttle.counters()
        return self.log.stats(throttled, max_in_flight)
