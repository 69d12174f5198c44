"""The load scenario as a Locust user class, for loads beyond one machine (`pip install scim-conformance[load]`).

Each Locust user is one of the generator's workers: it takes Entra's cycle job by job from its worker's
`PhaseQueue`. Worker i of K provisions the i-th share of the users and groups (its own journal, its own name
prefix under the run's), worker 0 also runs the race probes. The options are the `load` command's, from the one
table (`options.add_to_locust`), each spelled `--scim-<its name>`; `-u` is the concurrency of all workers together.
Locust's own `--run-time` is not used: it would cut the removal short. The cycle is bounded by `--scim-duration`
and `--scim-max-requests`, and the master quits once every worker has reported.

Started by `scim-conformance load --locust-workers K` (`load/workers.py`), the master hands what the workers
measured back to the command, which finishes the run. Started by hand, the master runs the run core itself
(`run.start` before the workers begin, `load.finish.finish_load` at the end) and writes the same reports:

    export SCIM_TOKEN=...          # on every machine; never on the command line
    locust -f "$(python -c 'import scim_conformance.load.locustfile as m; print(m.__file__)')" --headless \\
        --master --expect-workers 4 -u 16 -r 16 --scim-url https://app.example.com/scim/v2 --scim-users 100000
    locust -f <the same path> --worker --master-host <master>          # four times, on any machines
"""

from __future__ import annotations

import functools
import json
import resource
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]  # gevent (Locust's) ships no type hints
import gevent.ssl  # type: ignore[import-untyped]
import locust.runners
from geventhttpclient.response import HTTPParseError
from geventhttpclient.url import URL
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from scim_conformance import options
from scim_conformance.client import MAX_RESPONSE_BYTES, Answer, TransportError
from scim_conformance.identities import IdentityFactory
from scim_conformance.journal import Journal
from scim_conformance.load.finish import Measured, add_journals, finish_load, worker_client_options, worker_journal
from scim_conformance.load.generator import Phase, PhaseQueue, Sender, Traffic
from scim_conformance.load.measurements import Measurements
from scim_conformance.load.scenario import RACE_WIDTH, EntraCycle, ProbeResult
from scim_conformance.options import DEFAULT_PROFILE, LoadOptions
from scim_conformance.outcomes import document_exit_code
from scim_conformance.profile import load_profile
from scim_conformance.requirements import load_registry
from scim_conformance.run import Plan, Run, connect, plan, start

DONE_MESSAGE = "scim-load-done"

# What a worker reads once (the registry, a profile, faker's word lists) is read here, while the file is imported,
# before the process talks to the master: read later, it would block the whole gevent process for seconds on a
# busy machine, the master would miss the worker's heartbeats, count it gone and stop the run.
IdentityFactory(load_profile(DEFAULT_PROFILE), "warm", 0).mapping_report()
load_registry()
# A worker's heartbeat may be late by seconds on a starved machine (a shared CI runner, the defect matrix beside
# it), and Locust's master stops the whole run once it misses three: the master reads this when a worker joins
# and at every heartbeat, so it is set here, in the master's process too. A worker that really died is noticed
# 15 s later instead of 3; the master then finishes with the reports that came (_Master.stopped).
locust.runners.HEARTBEAT_LIVENESS = 15


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]  # Locust's hooks are untyped
def _options(parser: Any) -> None:
    options.add_to_locust(parser.add_argument_group("scim-conformance"))


def _load_options(environment: Any) -> LoadOptions:
    runner = environment.runner
    distributed = isinstance(runner, (MasterRunner, WorkerRunner))
    workers = max(1, int(getattr(environment.parsed_options, "expect_workers", 1) or 1)) if distributed else 1
    return options.from_locust(environment.parsed_options, workers=workers, master=isinstance(runner, MasterRunner))


class WorkerShare:
    """One worker's part of the run: its share of the cycle, its journal, its measurements."""

    def __init__(self, environment: Any) -> None:
        runner = environment.runner
        self.environment = environment
        self.index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        given = _load_options(environment)
        count = max(1, int(getattr(environment.parsed_options, "expect_workers", 1) or 1)) \
            if isinstance(runner, WorkerRunner) else 1
        self.plan: Plan[LoadOptions] = plan(given)
        self.options = given
        self.base_url = given.scim_url or ""
        self.token = given.token()
        self.journal = Journal(worker_journal(self.plan.stem, self.plan.report_dir, self.index), self.base_url,
                               self.plan.prefix)
        identities = IdentityFactory(self.plan.profile, f"{self.plan.prefix}-w{self.index}",
                                     self.plan.seed + self.index, given.email_domain)
        # faker's word lists are read here, as run.start reads them, not by the first job: reading them blocks the
        # whole gevent process, which would show as a pause of every request in flight.
        identities.mapping_report()
        self.cycle = EntraCycle(self.plan.profile, identities, self.journal, users=given.users, groups=given.groups,
                                share=(self.index, count))
        self.measurements = Measurements()
        self.traffic = Traffic(self.measurements, rate=given.rate / count, duration=given.duration,
                               max_requests=max(1, given.max_requests // count))
        self.traffic.observer = self._observe
        self.probes: list[ProbeResult] = []
        phases = self.cycle.phases()
        if self.index == 0:
            phases.insert(0, Phase("probes", lambda: [self._probe_job]))
        self.queue = PhaseQueue(phases, self.traffic)
        self.reported = False
        self._lock = threading.Lock()
        self.cpu_at_start = _cpu_seconds()  # this worker's CPU for the cycle itself, start-up left out

    def client(self, **overrides: Any) -> Any:
        return connect(self.plan, self.base_url, self.token, **worker_client_options(), **overrides)

    def _probe_job(self, _sender: Sender) -> None:
        unpaced = Traffic(self.measurements, rate=0, duration=600, max_requests=10**9)
        unpaced.stop = self.traffic.stop
        unpaced.observer = self._observe
        clients = [self.client() for _ in range(RACE_WIDTH)]
        try:
            self.probes = self.cycle.probes([Sender(c, unpaced) for c in clients])
        finally:
            for client in clients:
                client.close()
        self.traffic.deadline = time.monotonic() + self.options.duration  # the bounds are the cycle's

    def _observe(self, kind: str, method: str, status: int | None, elapsed_ms: float, error: str | None) -> None:
        failed = None if status is not None and status < 500 and status != 429 else \
            RuntimeError(error or f"HTTP {status}")
        self.environment.events.request.fire(request_type=method, name=kind, response_time=elapsed_ms,
                                             response_length=0, exception=failed, context={})

    def report(self) -> None:
        """Once this worker's share is done: hand its measurements and journal to the master (or finish here)."""
        with self._lock:
            if self.reported:
                return
            self.reported = True
        data = {
            "index": self.index, "measurements": self.measurements.as_data(), "phases": self.queue.ran,
            "stopped_by": self.traffic.stopped_by, "job_errors": self.traffic.job_errors[:20],
            "probes": [p.as_data() for p in self.probes],
            "journal": self.journal.path.read_text(encoding="utf-8") if self.journal.path else "",
            "cpu_s": round(_cpu_seconds() - self.cpu_at_start, 3),
        }
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message(DONE_MESSAGE, data)
        else:
            _MASTER["master"].collect(data)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_SHARE: dict[str, WorkerShare] = {}
_SHARE_LOCK = threading.Lock()


def _share(environment: Any) -> WorkerShare:
    with _SHARE_LOCK:
        if "share" not in _SHARE:
            _SHARE["share"] = WorkerShare(environment)
        return _SHARE["share"]


class _Provisioning:
    """One of Entra's provisioning workers: takes the cycle's next job, sends it, and stops when none is left."""

    environment: Any
    share: WorkerShare
    sender: Sender

    def next_job(self) -> None:
        queue = self.share.queue
        job = queue.take()
        if job is None:
            self.share.report()
            raise StopUser()
        try:
            job(self.sender)
        except Exception as exc:  # an odd answer: noted, as without Locust
            self.share.traffic.job_errors.append(f"{type(exc).__name__}: {exc}"[:300])
        finally:
            queue.finished()

    def on_stop(self) -> None:
        self.sender.client.close()


class EntraProvisioning(_Provisioning, FastHttpUser):
    """The cycle's requests sent by the run's own client (the same bodies, headers, redaction and measurements)
    through this user's geventhttpclient pool instead of requests: a third of the CPU per request."""

    wait_time = constant(0)
    max_redirects = 0  # a redirect is the server's answer, never followed (as the client never follows one)
    max_retries = 0

    def __init__(self, environment: Any) -> None:
        # Here, not at start-up: a worker started with only --master-host has the run's options once the master's
        # spawn message brought them.
        _configure_users(_load_options(environment))
        super().__init__(environment)

    def on_start(self) -> None:
        self.share = _share(self.environment)
        self.sender = Sender(self.share.client(transport=OverFastHttp(self.client)), self.share.traffic)

    @task
    def job(self) -> None:
        self.next_job()


class OverFastHttp:
    """A transport for the run's client (`client.Transport`): one request over a FastHttpUser's connection pool,
    the answer as the client records it; no answer is a TransportError of the client's kinds."""

    def __init__(self, session: Any) -> None:
        self.pool = session.client.clientpool

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
        target = URL(url)
        try:
            response = self.pool.get_client(target).request(method, target.request_uri, body=body, headers=headers)
            try:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
            finally:
                response.release()
        except (TimeoutError, gevent.Timeout):
            raise TransportError("no answer within the request timeout", "timeout", None) from None  # type: ignore[arg-type]
        except ssl.SSLError as exc:
            raise TransportError(f"TLS handshake failed ({exc})", "tls", None) from None  # type: ignore[arg-type]
        except ConnectionRefusedError:
            raise TransportError("connection refused", "unreachable", None) from None  # type: ignore[arg-type]
        except (OSError, HTTPParseError) as exc:
            raise TransportError(f"connection broken ({exc})", "reset", None) from None  # type: ignore[arg-type]
        if len(raw) > MAX_RESPONSE_BYTES:
            raise TransportError(f"response body larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB", "oversized",
                                 None)  # type: ignore[arg-type]
        return Answer(response.status_code, getattr(response, "status_message", "") or "", dict(response.items()), raw)


def _configure_users(given: LoadOptions) -> None:
    """The FastHttpUser settings from the run's options: its target, timeout and TLS verification."""
    EntraProvisioning.host = given.scim_url
    EntraProvisioning.network_timeout = EntraProvisioning.connection_timeout = given.timeout
    EntraProvisioning.insecure = given.verify is False
    if isinstance(given.verify, str):
        EntraProvisioning.ssl_context_factory = functools.partial(gevent.ssl.create_default_context,
                                                                  cafile=given.verify)


class _Master:
    """Gathers the workers' reports; once all are in, hands them back to `load` (or, started by hand, finishes the
    run it started) and quits. When Locust stops the run first (a worker gone), it does the same with what came,
    and says the run was cut short."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment
        runner = environment.runner
        self.options = _load_options(environment)
        self.expected = max(1, int(environment.parsed_options.expect_workers or 1)) \
            if isinstance(runner, MasterRunner) else 1
        self.run: Run[LoadOptions] | None = None
        if self.options.handoff is None:
            # Started by hand: this process keeps the run, as `load` does (preflight, journal, reports).
            self.run = start(plan(self.options))
        self.reports: list[dict[str, Any]] = []
        self.finished = False

    def collect(self, data: dict[str, Any]) -> None:
        self.reports.append(data)
        if len(self.reports) == self.expected:
            self.finish()
            self.environment.runner.quit()

    def stopped(self, **_kwargs: Any) -> None:
        """Locust's test_stop: after `collect` quit, nothing to do; before, finish with the reports that came."""
        if not self.finished:
            self.finish()
            gevent.spawn(self.environment.runner.quit)  # not from inside Locust's own stop

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        complete = len(self.reports) == self.expected
        if self.options.handoff is not None:
            handoff = {"reports": self.reports, "complete": complete}
            Path(self.options.handoff).write_text(json.dumps(handoff), encoding="utf-8")
            return
        assert self.run is not None
        add_journals(self.run.journal, [r["journal"] for r in self.reports])
        measured = Measured.merged(self.reports) if self.reports else Measured(stopped_by="interrupted")
        document = finish_load(self.run, measured, interrupted=not complete)
        self.environment.process_exit_code = int(document_exit_code(document))


_MASTER: dict[str, _Master] = {}


@events.init.add_listener  # type: ignore[untyped-decorator]  # Locust's hooks are untyped
def _on_init(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    master = _MASTER["master"] = _Master(environment)
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(DONE_MESSAGE, lambda msg, **_kw: master.collect(msg.data))
        environment.events.test_stop.add_listener(master.stopped)
