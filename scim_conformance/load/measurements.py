"""What a load run saw: per request kind latencies and statuses, the timeline, timeouts and 429 handling.

Kept as plain numbers so that the measurements of several Locust workers can be sent to the master and merged.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# Kinds whose requests are race probes, not part of the replayed cycle: they are left out of its rate.
PROBE_PREFIX = "race-"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(values)))
    return values[min(rank, len(values)) - 1]


@dataclass
class Measurements:
    started: float = field(default_factory=time.time)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms, in order of completion
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status (or error kind) -> count
    timeline: dict[int, dict[str, int]] = field(default_factory=dict)  # second since start -> class -> count
    answered: dict[int, list[float]] = field(default_factory=dict)  # second since start -> ms of those answered
    errors: dict[str, int] = field(default_factory=dict)  # transport error kind -> count
    throttled_with_retry_after: int = 0
    throttled_without_retry_after: int = 0
    waits_sufficed: int = 0  # a request retried after waiting as told, answered other than 429
    waits_refused: int = 0  # ... answered 429 again
    cycle_first: float | None = None
    cycle_last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, status: int | None, elapsed_ms: float, sent_at: float,
               error: str | None = None) -> None:
        """One request: its answer's status (None with the transport error kind when none came)."""
        done = sent_at + elapsed_ms / 1000
        label = str(status) if status is not None else (error or "error")
        bucket = ("429" if status == 429 else f"{status // 100}xx") if status is not None else "error"
        with self._lock:
            self.latencies.setdefault(kind, []).append(round(elapsed_ms, 2))
            counts = self.statuses.setdefault(kind, {})
            counts[label] = counts.get(label, 0) + 1
            at = int(done - self.started)
            second = self.timeline.setdefault(at, {})
            second[bucket] = second.get(bucket, 0) + 1
            if status is not None:
                self.answered.setdefault(at, []).append(round(elapsed_ms, 2))
            if status is None:
                self.errors[error or "error"] = self.errors.get(error or "error", 0) + 1
            if not kind.startswith(PROBE_PREFIX):
                self.cycle_first = sent_at if self.cycle_first is None else min(self.cycle_first, sent_at)
                self.cycle_last = done if self.cycle_last is None else max(self.cycle_last, done)

    def throttled(self, *, retry_after: bool) -> None:
        with self._lock:
            if retry_after:
                self.throttled_with_retry_after += 1
            else:
                self.throttled_without_retry_after += 1

    def waited(self, *, sufficed: bool) -> None:
        with self._lock:
            if sufficed:
                self.waits_sufficed += 1
            else:
                self.waits_refused += 1

    # --- moving between processes ---------------------------------------------------------------------------
    def as_data(self) -> dict[str, Any]:
        with self._lock:
            return {
                "started": self.started, "latencies": self.latencies, "statuses": self.statuses,
                "timeline": {str(k): v for k, v in self.timeline.items()},
                "answered": {str(k): v for k, v in self.answered.items()}, "errors": self.errors,
                "throttled_with_retry_after": self.throttled_with_retry_after,
                "throttled_without_retry_after": self.throttled_without_retry_after,
                "waits_sufficed": self.waits_sufficed, "waits_refused": self.waits_refused,
                "cycle_first": self.cycle_first, "cycle_last": self.cycle_last,
            }

    def merge(self, data: dict[str, Any]) -> None:
        """Add another worker's measurements (`as_data`) to these; its timeline is shifted onto this clock."""
        shift = round(data["started"] - self.started)
        with self._lock:
            for kind, values in data["latencies"].items():
                self.latencies.setdefault(kind, []).extend(values)
            for kind, counts in data["statuses"].items():
                mine = self.statuses.setdefault(kind, {})
                for label, n in counts.items():
                    mine[label] = mine.get(label, 0) + n
            for second, counts in data["timeline"].items():
                mine = self.timeline.setdefault(max(0, int(second) + shift), {})
                for label, n in counts.items():
                    mine[label] = mine.get(label, 0) + n
            for second, values in data["answered"].items():
                self.answered.setdefault(max(0, int(second) + shift), []).extend(values)
            for kind, n in data["errors"].items():
                self.errors[kind] = self.errors.get(kind, 0) + n
            for name in ("throttled_with_retry_after", "throttled_without_retry_after", "waits_sufficed",
                         "waits_refused"):
                setattr(self, name, getattr(self, name) + data[name])
            for name, pick in (("cycle_first", min), ("cycle_last", max)):
                theirs, mine_value = data[name], getattr(self, name)
                if theirs is not None:
                    setattr(self, name, theirs if mine_value is None else pick(mine_value, theirs))

    # --- what the report says -----------------------------------------------------------------------------
    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def count(self, *, kinds: str = "cycle", where: Any = None) -> int:
        """Requests of the cycle (or of the probes), optionally only those whose status label passes `where`."""
        total = 0
        for kind, counts in self.statuses.items():
            if (kind.startswith(PROBE_PREFIX)) != (kinds == "probes"):
                continue
            total += sum(n for label, n in counts.items() if where is None or where(label))
        return total

    def served_rate(self) -> float:
        """Answers other than 429 per second over the cycle (from its first request sent to its last answer)."""
        if self.cycle_first is None or self.cycle_last is None:
            return 0.0
        span = max(self.cycle_last - self.cycle_first, 1e-3)
        served = self.count(where=lambda label: label.isdigit() and label != "429")
        return served / span

    def server_errors(self) -> int:
        return self.count(where=lambda label: label.isdigit() and label.startswith("5")) + \
            self.count(kinds="probes", where=lambda label: label.isdigit() and label.startswith("5"))

    def timeouts(self) -> int:
        return self.errors.get("timeout", 0)

    def summary(self) -> dict[str, Any]:
        kinds = {}
        for kind in sorted(self.latencies):
            values = sorted(self.latencies[kind])
            kinds[kind] = {
                "requests": len(values),
                "p50_ms": percentile(values, 0.50), "p95_ms": percentile(values, 0.95),
                "p99_ms": percentile(values, 0.99), "max_ms": values[-1] if values else 0.0,
                "statuses": dict(sorted(self.statuses.get(kind, {}).items())),
                "histogram": histogram(values),
            }
        span = (self.cycle_last - self.cycle_first) if self.cycle_first is not None and self.cycle_last else 0.0
        last = max(self.timeline, default=-1)
        return {
            "requests": self.requests,
            "cycle_requests": self.count(),
            "cycle_seconds": round(span, 3),
            "served_per_second": round(self.served_rate(), 2),
            "server_errors": self.server_errors(),
            "timeouts": self.timeouts(),
            "transport_errors": dict(sorted(self.errors.items())),
            "throttling": {
                "with_retry_after": self.throttled_with_retry_after,
                "without_retry_after": self.throttled_without_retry_after,
                "waits_sufficed": self.waits_sufficed,
                "waits_refused": self.waits_refused,
            },
            "kinds": kinds,
            "timeline": [dict(sorted(self.timeline.get(s, {}).items())) for s in range(last + 1)],
            "latency_timeline": [latency(self.answered.get(s, [])) for s in range(last + 1)],
        }


def latency(values: list[float]) -> dict[str, float | int]:
    """The answers of one second: how many, and their median and 95th percentile latency."""
    ordered = sorted(values)
    return {"answered": len(ordered), "p50_ms": percentile(ordered, 0.50), "p95_ms": percentile(ordered, 0.95)}


# Latency buckets (upper bounds, ms) for the distribution plot: roughly logarithmic, loopback to timeout.
HISTOGRAM_BOUNDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def histogram(values: list[float]) -> list[int]:
    """Counts per bucket of HISTOGRAM_BOUNDS, plus one last bucket for anything slower."""
    counts = [0] * (len(HISTOGRAM_BOUNDS) + 1)
    for value in values:
        index = next((i for i, bound in enumerate(HISTOGRAM_BOUNDS) if value <= bound), len(HISTOGRAM_BOUNDS))
        counts[index] += 1
    return counts
