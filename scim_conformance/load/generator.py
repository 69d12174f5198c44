"""The load generator: worker threads that send a scenario's jobs, phase by phase, within the run's bounds.

Every worker has its own `ScimClient` (one keep-alive connection each, no transcript, no 429 sleeping of its
own). All of them share one `Traffic`: the pacing to `--rate`, the request cap and the deadline, the stop flag
that Ctrl-C and SIGTERM set, and the pause a 429 imposes on the whole run (Entra suspends the job, not one
request, for the Retry-After it is given).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from scim_conformance.client import MAX_429_RETRIES, MAX_RETRY_AFTER_SECONDS, Exchange, ScimClient, TransportError
from scim_conformance.client import _retry_after_seconds as retry_after_seconds
from scim_conformance.load.measurements import Measurements

# What a 429 without a usable Retry-After costs: the same one second the conformance client waits.
DEFAULT_429_WAIT_S = 1.0


class Traffic:
    """What every worker shares: bounds, pacing, the run-wide 429 pause and the stop flag."""

    def __init__(self, measurements: Measurements, *, rate: float, duration: float, max_requests: int) -> None:
        self.measurements = measurements
        self.duration = duration
        self.deadline = time.monotonic() + duration
        self.max_requests = max_requests
        self.sent = 0
        self.stop = threading.Event()
        self.stopped_by: str | None = None  # "duration", "request cap" or "interrupted"
        self.job_errors: list[str] = []
        # Called with (kind, method, status or None, elapsed ms, error kind) after every request (Locust's stats).
        self.observer: Callable[[str, str, int | None, float, str | None], None] | None = None
        self._interval = 1.0 / rate if rate else 0.0
        self._next_slot = 0.0
        self._pause_until = 0.0
        self._lock = threading.Lock()

    def admit(self, essential: bool) -> bool:
        """May one more request go out? Removal of what the run created (essential) is exempt from the bounds."""
        with self._lock:
            if self.stop.is_set():
                return False
            if not essential:
                if time.monotonic() >= self.deadline:
                    self.stopped_by = self.stopped_by or "duration"
                    return False
                if self.sent >= self.max_requests:
                    self.stopped_by = self.stopped_by or "request cap"
                    return False
            self.sent += 1
            return True

    def bounded(self) -> bool:
        """Has a bound (or an interrupt) ended the sending of the cycle? The first one met is noted."""
        if self.stop.is_set():
            return True
        reason = "duration" if time.monotonic() >= self.deadline else \
            "request cap" if self.sent >= self.max_requests else None
        if reason and self.stopped_by is None:
            self.stopped_by = reason
        return reason is not None

    def wait_turn(self) -> None:
        """Wait out a run-wide pause and the pacing slot; an interrupt ends the wait."""
        while not self.stop.is_set():
            with self._lock:
                now = time.monotonic()
                start = max(self._pause_until, self._next_slot)
                if start <= now:
                    self._next_slot = max(self._next_slot, now) + self._interval
                    return
            self.stop.wait(start - now)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def interrupt(self) -> None:
        self.stopped_by = "interrupted"
        self.stop.set()


class Sender:
    """One worker's way out: `send` measures, honours 429s as Entra does, and respects the bounds."""

    def __init__(self, client: ScimClient, traffic: Traffic) -> None:
        self.client = client
        self.traffic = traffic

    def send(self, kind: str, method: str, path: str, *, essential: bool = False, **kwargs: Any) -> Exchange | None:
        """The final answer, or None when no answer came or a bound stopped the request."""
        told: float | None = None
        exchange: Exchange | None = None
        for _attempt in range(MAX_429_RETRIES + 1):
            if not self.traffic.admit(essential):
                return exchange
            self.traffic.wait_turn()
            if self.traffic.stop.is_set():
                return exchange
            sent_at = time.time()
            try:
                exchange = self.client.request(method, path, **kwargs)
            except TransportError as exc:
                elapsed = exc.exchange.elapsed_ms if exc.exchange else 0.0
                self.traffic.measurements.record(kind, None, elapsed, sent_at, error=exc.kind)
                if self.traffic.observer:
                    self.traffic.observer(kind, method, None, elapsed, exc.kind)
                return None
            self.traffic.measurements.record(kind, exchange.status, exchange.elapsed_ms, sent_at)
            if self.traffic.observer:
                self.traffic.observer(kind, method, exchange.status, exchange.elapsed_ms, None)
            if told is not None:
                self.traffic.measurements.waited(sufficed=exchange.status != 429)
            if exchange.status != 429:
                return exchange
            seconds = retry_after_seconds(exchange.header("Retry-After"))
            self.traffic.measurements.throttled(retry_after=seconds is not None)
            if seconds is not None and seconds > MAX_RETRY_AFTER_SECONDS:
                return exchange  # a bounded run cannot wait that long; the 429 stands as the answer
            told = seconds
            self.traffic.pause(DEFAULT_429_WAIT_S if seconds is None else seconds)
        return exchange

    def kind(self, name: str, *, essential: bool = False) -> _Kind:
        """A ScimClient-like view that sends every request as one kind (for the shared `steps` helpers)."""
        return _Kind(self, name, essential)


@dataclass
class _Kind:
    sender: Sender
    name: str
    essential: bool

    def request(self, method: str, path: str, **kwargs: Any) -> Exchange | None:
        return self.sender.send(self.name, method, path, essential=self.essential, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Exchange | None:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Exchange | None:
        return self.request("POST", path, json_body=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Exchange | None:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Exchange | None:
        return self.request("DELETE", path, **kwargs)


Job = Callable[[Sender], None]


@dataclass
class Phase:
    """Jobs that may run in any order and at once; the next phase starts when all of them are done."""

    name: str
    jobs: Callable[[], list[Job]]  # built when the phase starts, from what earlier phases created
    essential: bool = False  # runs in full whatever the bounds (removing what the run created)


class PhaseQueue:
    """Hands a scenario's jobs to any number of workers, phase by phase: a phase begins when the last job of
    the one before has finished (members are added only to groups that exist, users removed only at the end).

    Threads here and Locust's users (greenlets) take jobs from it the same way: `take`, run, `finished`.
    """

    def __init__(self, phases: list[Phase], traffic: Traffic, progress: Progress | None = None) -> None:
        self.phases = list(phases)
        self.traffic = traffic
        self.progress = progress
        self.ran: list[str] = []
        self._index = -1
        self._pending: deque[Job] = deque()
        self._essential = False
        self._running = 0
        self._cond = threading.Condition()

    def take(self) -> Job | None:
        """The next job, waiting while the current phase finishes; None when there is nothing left to do."""
        with self._cond:
            while not self.traffic.stop.is_set():
                if not self._essential and self.traffic.bounded():
                    self._pending.clear()
                if self._pending:
                    self._running += 1
                    return self._pending.popleft()
                if self._running:
                    self._cond.wait(0.1)
                    continue
                if not self._advance():
                    return None
            return None

    def finished(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def _advance(self) -> bool:
        while self._index + 1 < len(self.phases):
            self._index += 1
            phase = self.phases[self._index]
            if not phase.essential and self.traffic.bounded():
                continue
            self._pending = deque(phase.jobs())
            self._essential = phase.essential
            self.ran.append(phase.name)
            if self.progress:
                self.progress.phase(phase.name)
            return True
        return False


def work(queue: PhaseQueue, sender: Sender) -> None:
    """One worker: jobs until the queue is empty; a job that breaks (an odd answer) is noted, not fatal."""
    while (job := queue.take()) is not None:
        try:
            job(sender)
        except Exception as exc:
            queue.traffic.job_errors.append(f"{type(exc).__name__}: {exc}"[:300])
        finally:
            queue.finished()


def run_phases(phases: list[Phase], senders: list[Sender], traffic: Traffic,
               progress: Progress | None = None) -> list[str]:
    """Run the phases on one thread per sender; the names of the phases that ran (a bound can end the run early).

    KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one) stops every worker and is raised again once they
    have stopped, so that the caller can remove what the run created.
    """
    traffic.deadline = time.monotonic() + traffic.duration  # the bounds are the cycle's, not the probes'
    queue = PhaseQueue(phases, traffic, progress)
    threads = [threading.Thread(target=work, args=(queue, s), daemon=True, name=f"load-{n}")
               for n, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(0.2)
            if progress:
                progress.tick()
    except KeyboardInterrupt:
        traffic.interrupt()
        for thread in threads:
            thread.join(5)
        raise
    return queue.ran


def concurrently(senders: list[Sender], calls: list[Callable[[Sender], Any]]) -> list[Any]:
    """Run one call per sender at the same moment (a barrier releases them together); their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            return
        results[index] = calls[index](senders[index])

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class Progress:
    """A live line on a terminal (bar, requests, rate, 429s, errors); plain lines every few seconds otherwise."""

    PLAIN_EVERY_S = 5.0

    def __init__(self, traffic: Traffic, planned: int, duration: float, stream: TextIO | None = None) -> None:
        self.traffic = traffic
        self.planned = max(planned, 1)
        self.duration = duration
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last_plain = 0.0
        self._window: list[tuple[float, int]] = []
        self._phase = ""

    def phase(self, name: str) -> None:
        self._phase = name
        if not self.tty:
            self._plain(f"phase: {name}")

    def _state(self) -> tuple[str, float]:
        m = self.traffic.measurements
        now = time.monotonic()
        done = m.requests
        self._window = [(t, n) for t, n in self._window if now - t <= 5.0] + [(now, done)]
        first_t, first_n = self._window[0]
        rate = (done - first_n) / (now - first_t) if now - first_t > 0.2 else 0.0
        throttled = m.throttled_with_retry_after + m.throttled_without_retry_after
        errors = sum(m.errors.values())
        elapsed = now - self.started
        share = max(min(done / self.planned, 1.0), min(elapsed / self.duration, 1.0) if self.duration else 0.0)
        text = (f"{done} requests, {rate:.1f} req/s, {throttled} x 429, {errors} errors, {elapsed:.0f} s"
                f" [{self._phase}]")
        return text, share

    def tick(self) -> None:
        text, share = self._state()
        if self.tty:
            width = 24
            bar = "#" * int(share * width) + "-" * (width - int(share * width))
            self.stream.write(f"\r[{bar}] {text}\033[K")
            self.stream.flush()
        elif time.monotonic() - self._last_plain >= self.PLAIN_EVERY_S:
            self._plain(text)

    def _plain(self, text: str) -> None:
        self._last_plain = time.monotonic()
        print(f"load: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        text, _share = self._state()
        if self.tty:
            self.stream.write("\r\033[K")
        print(f"load: done, {text}", file=self.stream, flush=True)


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM ends a load run like Ctrl-C, so that it still removes what it created."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
