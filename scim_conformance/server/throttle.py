"""Request throttling: a token bucket in front of the service, refusing with 429 and a Retry-After.

Off unless the server is started with a rate limit (``ReferenceServer(rate_limit=40)``, ``serve --rate-limit``):
the conformance checks run against an unthrottled server, a load run against a throttled one, so that the
way a client is told to wait, and whether waiting as told is enough, can be judged.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from .defects import Defects

# With `retry-after-too-short`, a refusal keeps the door shut this many times longer than it says.
_UNDERSTATED = 3.0


class Throttle:
    """At most `rate` requests per second on average, in bursts of up to one second's worth."""

    def __init__(self, rate: float, defects: Defects, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("a rate limit must be a positive number of requests per second")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.defects = defects
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._shut_until = 0.0
        self._lock = threading.Lock()

    def admit(self) -> int | None:
        """None: serve the request. Otherwise the whole seconds the client is told to wait (Retry-After)."""
        with self._lock:
            now = self._clock()
            if now < self._shut_until:
                return 1
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            # By then the bucket holds a full second's burst again, so a client that waits as told gets in.
            wait = max(1, math.ceil(self.capacity / self.rate))
            if self.defects.on("retry-after-too-short"):
                self._shut_until = now + wait * _UNDERSTATED
            return wait
