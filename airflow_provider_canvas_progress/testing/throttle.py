"""Canvas's request throttle: a leaky bucket per access token.

Modelled on ``app/middleware/request_throttle.rb`` and ``request_throttle/increment_bucket.lua``:

* each increment first leaks ``outflow * elapsed`` (only while the count is positive), then adds
  the amount and clamps the count to ``[0, maximum]``;
* a request is charged ``up_front_cost`` *before* it is judged, and it is refused when the bucket
  is then full (``count >= hwm``). That is why about twelve concurrent requests on one token fill a
  fresh bucket: the eleventh still fits, the twelfth reaches 600;
* when the request ends, the up-front charge is taken back and its real cost added;
* ``X-Rate-Limit-Remaining`` is ``hwm - count`` after that final increment, so it can go negative
  while other requests are in flight (down to ``hwm - maximum``).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .clock import Clock

__all__ = ["Admission", "BucketSettings", "RequestThrottle", "ThrottleStats"]


@dataclass(frozen=True)
class BucketSettings:
    """The throttle's tunables, with Canvas's defaults."""

    hwm: float = 600.0
    maximum: float = 800.0
    outflow: float = 10.0
    up_front_cost: float = 50.0
    request_cost: float = 0.01


@dataclass
class _Bucket:
    count: float = 0.0
    last_touched: float | None = None

    def increment(self, amount: float, now: float, settings: BucketSettings) -> float:
        last = self.last_touched if self.last_touched is not None else now
        count = self.count
        if count > 0:
            loss = settings.outflow * (now - last)
            if loss > 0:
                count -= loss
        count = min(max(count + amount, 0.0), settings.maximum)
        self.count = count
        self.last_touched = now
        return count


@dataclass(frozen=True)
class Admission:
    """The throttle's verdict on one request, to be handed back to :meth:`RequestThrottle.finish`."""

    key: str
    allowed: bool


@dataclass
class ThrottleStats:
    """Counters over the throttle's life."""

    throttled: int = 0
    max_in_flight: Counter[str] = field(default_factory=Counter)


class RequestThrottle:
    """Leaky buckets keyed by client identifier (the access token).

    Thread-safe: the buckets live on the server thread but tests read them from theirs.

    :param settings: bucket sizes and costs.
    :param clock: the simulator clock (under a ManualClock the bucket drains only when time moves).
    :param enabled: when ``False`` nothing is refused but the headers are still computed, as in
        Canvas with ``request_throttle.enabled`` off.
    """

    def __init__(self, settings: BucketSettings, clock: Clock, *, enabled: bool = True) -> None:
        self.settings = settings
        self.enabled = enabled
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._in_flight: Counter[str] = Counter()
        self.stats = ThrottleStats()

    def begin(self, key: str) -> Admission:
        """Charge the up-front cost and judge the request."""
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket())
            count = bucket.increment(self.settings.up_front_cost, self._clock.now(), self.settings)
            allowed = not (self.enabled and count >= self.settings.hwm)
            self._in_flight[key] += 1
            if self._in_flight[key] > self.stats.max_in_flight[key]:
                self.stats.max_in_flight[key] = self._in_flight[key]
            if not allowed:
                self.stats.throttled += 1
            return Admission(key, allowed)

    def finish(self, admission: Admission) -> float:
        """Replace the up-front charge with the real cost; return ``X-Rate-Limit-Remaining``."""
        with self._lock:
            bucket = self._buckets[admission.key]
            self._in_flight[admission.key] -= 1
            count = bucket.increment(
                self.settings.request_cost - self.settings.up_front_cost, self._clock.now(), self.settings
            )
            return self.settings.hwm - count

    def level(self, key: str) -> float:
        """Return a bucket's count as of now (leaked, not written back)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return 0.0
            probe = _Bucket(bucket.count, bucket.last_touched)
            return probe.increment(0.0, self._clock.now(), self.settings)

    def counters(self) -> tuple[int, dict[str, int]]:
        """Return ``(throttled, max in-flight per key)``; token keys are the bare token."""
        with self._lock:
            peaks = {key.removeprefix("token:"): peak for key, peak in self.stats.max_in_flight.items()}
            return self.stats.throttled, peaks

    def reset(self) -> None:
        """Empty every bucket."""
        with self._lock:
            self._buckets.clear()
