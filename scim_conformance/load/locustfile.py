"""The load scenario as a Locust user class, for loads beyond one machine (`pip install scim-conformance[load]`).

Each Locust user is one of the generator's workers: it takes Entra's cycle job by job from its worker's
`PhaseQueue`. Worker i of K provisions the i-th share of the users and groups (its own journal, its own name
prefix under the run's), worker 0 also runs the race probes; the master merges what the workers measured and
journalled and writes the same result document, JUnit and HTML as a run without Locust. Locust's own
`--run-time` is not used: it would cut the removal short. The cycle is bounded by `--scim-duration` and
`--scim-max-requests`, and the master quits once every worker has reported.

    export SCIM_TOKEN=...          # on every machine; never on the command line
    locust -f "$(python -c 'import scim_conformance.load.locustfile as m; print(m.__file__)')" --headless \\
        --master --expect-workers 4 -u 16 -r 16 --scim-url https://app.example.com/scim/v2 --scim-users 100000
    locust -f <the same path> --worker --master-host <master>          # four times, on any machines

`scim-conformance load --locust-workers K` starts a master and K workers on this machine (`load/workers.py`).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path
from typing import Any

from locust import User, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from scim_conformance.cleanup import sweep
from scim_conformance.identities import IdentityFactory
from scim_conformance.journal import Journal
from scim_conformance.load.generator import Phase, PhaseQueue, Sender, Traffic
from scim_conformance.load.measurements import Measurements
from scim_conformance.load.run import LoadSettings, finish, stem_for
from scim_conformance.load.scenario import RACE_WIDTH, EntraCycle, ProbeResult
from scim_conformance.profile import load_profile

DONE_MESSAGE = "scim-load-done"
TOKEN_ENV = "SCIM_TOKEN"


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]  # Locust's hooks are untyped
def _options(parser: Any) -> None:
    group = parser.add_argument_group("scim-conformance")
    group.add_argument("--scim-url", default="", help="SCIM base URL (the token comes from $SCIM_TOKEN)")
    group.add_argument("--scim-profile", default="entra-id", help="profile name or YAML file")
    group.add_argument("--scim-users", type=int, default=200, help="users in the initial cycle, all workers together")
    group.add_argument("--scim-groups", type=int, default=10, help="groups in the initial cycle")
    group.add_argument("--scim-duration", type=float, default=120.0, help="seconds before the cycle stops")
    group.add_argument("--scim-max-requests", type=int, default=20000, help="requests before the cycle stops")
    group.add_argument("--scim-rate", type=float, default=0.0, help="at most this many requests/s, all workers "
                       "together (default 0: unpaced)")
    group.add_argument("--scim-seed", type=int, default=0, help="seed for generated identities")
    group.add_argument("--scim-email-domain", default=None, help="domain of generated userNames and emails")
    group.add_argument("--scim-timeout", type=float, default=10.0, help="per-request timeout")
    group.add_argument("--scim-report-dir", default="reports", help="where the master writes the reports")
    group.add_argument("--scim-stem", default="", help="file name stem of the reports (default: profile and time)")
    group.add_argument("--scim-gallery", action="store_true", help="judge 25 requests/s as a MUST")
    group.add_argument("--scim-ca-bundle", default="", help="CA bundle for the server's TLS certificate")
    group.add_argument("--scim-insecure", action="store_true", help="do not verify TLS certificates (unsafe)")
    # Set by `scim-conformance load --locust-workers` when it started the bundled server (for the report's facts).
    group.add_argument("--scim-embedded", default=None, help=argparse.SUPPRESS)


def _settings(options: Any, *, concurrency: int) -> LoadSettings:
    return LoadSettings(
        profile=load_profile(options.scim_profile), base_url=options.scim_url, token=os.environ.get(TOKEN_ENV),
        verify=False if options.scim_insecure else (options.scim_ca_bundle or True), timeout=options.scim_timeout,
        users=options.scim_users,
        groups=options.scim_groups, concurrency=concurrency, duration=options.scim_duration, rate=options.scim_rate,
        max_requests=options.scim_max_requests, gallery=options.scim_gallery, seed=options.scim_seed,
        email_domain=options.scim_email_domain, report_dir=Path(options.scim_report_dir))


def _stem(options: Any, settings: LoadSettings) -> str:
    return options.scim_stem or stem_for(settings.profile)


class WorkerShare:
    """One worker's part of the run: its share of the cycle, its journal, its measurements."""

    def __init__(self, environment: Any) -> None:
        options = environment.parsed_options
        runner = environment.runner
        self.environment = environment
        self.index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        count = max(1, int(getattr(options, "expect_workers", 1) or 1)) if isinstance(runner, WorkerRunner) else 1
        self.settings = _settings(options, concurrency=max(1, int(options.num_users or 1)))
        self.stem = _stem(options, self.settings)
        url = self.settings.base_url or ""
        self.journal = Journal(self.settings.report_dir / f"{self.stem}.w{self.index}.journal.jsonl", url,
                               self.settings.prefix)
        identities = IdentityFactory(self.settings.profile, f"{self.settings.prefix}-w{self.index}",
                                     self.settings.seed + self.index, self.settings.email_domain)
        self.cycle = EntraCycle(self.settings.profile, identities, self.journal, users=self.settings.users,
                                groups=self.settings.groups, share=(self.index, count))
        self.measurements = Measurements()
        self.traffic = Traffic(self.measurements, rate=options.scim_rate / count, duration=self.settings.duration,
                               max_requests=max(1, self.settings.max_requests // count))
        self.traffic.observer = self._observe
        self.probes: list[ProbeResult] = []
        phases = self.cycle.phases()
        if self.index == 0:
            phases.insert(0, Phase("probes", lambda: [self._probe_job]))
        self.queue = PhaseQueue(phases, self.traffic)
        self.reported = False
        self._lock = threading.Lock()

    def _probe_job(self, _sender: Sender) -> None:
        unpaced = Traffic(self.measurements, rate=0, duration=600, max_requests=10**9)
        unpaced.stop = self.traffic.stop
        unpaced.observer = self._observe
        clients = [self.settings.client(self.settings.base_url or "") for _ in range(RACE_WIDTH)]
        try:
            self.probes = self.cycle.probes([Sender(c, unpaced) for c in clients])
        finally:
            for client in clients:
                client.close()
        self.traffic.deadline = time.monotonic() + self.settings.duration  # the bounds are the cycle's

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
        }
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message(DONE_MESSAGE, data)
        else:
            _Master(self.environment).collect(data)


_SHARE: dict[str, WorkerShare] = {}
_SHARE_LOCK = threading.Lock()


def _share(environment: Any) -> WorkerShare:
    with _SHARE_LOCK:
        if "share" not in _SHARE:
            _SHARE["share"] = WorkerShare(environment)
        return _SHARE["share"]


class EntraProvisioning(User):
    """One of Entra's provisioning workers: takes the cycle's next job, sends it, and stops when none is left."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.share = _share(self.environment)
        self.sender = Sender(self.share.settings.client(self.share.settings.base_url or ""), self.share.traffic)

    def on_stop(self) -> None:
        self.sender.client.close()

    @task
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


class _Master:
    """Merges the workers' reports; once all are in, sweeps, judges, writes the reports and quits."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment
        options = environment.parsed_options
        runner = environment.runner
        self.expected = max(1, int(options.expect_workers or 1)) if isinstance(runner, MasterRunner) else 1
        self.settings = _settings(options, concurrency=max(1, int(options.num_users or 1)))
        self.settings.locust_workers = self.expected if isinstance(runner, MasterRunner) else 0
        self.embedded = options.scim_embedded is not None
        self.settings.defects = tuple(d for d in (options.scim_embedded or "").split(",") if d)
        self.stem = _stem(options, self.settings)
        self.reports: list[dict[str, Any]] = []

    def collect(self, data: dict[str, Any]) -> None:
        self.reports.append(data)
        if len(self.reports) == self.expected:
            self.finish()
            self.environment.runner.quit()

    def finish(self) -> None:
        reports = sorted(self.reports, key=lambda r: r["index"])
        measurements = Measurements(started=min(r["measurements"]["started"] for r in reports))
        for report in reports:
            measurements.merge(report["measurements"])
        journal = merge_journals(self.settings, self.stem, [r["journal"] for r in reports])
        client = self.settings.client(self.settings.base_url or "")
        cleanup_failures = sweep(client, journal)
        client.close()
        stopped = [r["stopped_by"] for r in reports if r["stopped_by"]]
        load = {"settings": self.settings.as_meta(), "phases": reports[0]["phases"],
                "stopped_by": stopped[0] if stopped else None,
                "job_errors": [e for r in reports for e in r["job_errors"]][:20], "summary": measurements.summary()}
        probes = [ProbeResult.from_data(p) for r in reports for p in r["probes"]]
        code, _document = finish(self.settings, measurements, probes, load, stem=self.stem, embedded=self.embedded,
                                 journal=journal, cleanup_failures=cleanup_failures, interrupted=False,
                                 requests=measurements.requests)
        self.environment.process_exit_code = code


def merge_journals(settings: LoadSettings, stem: str, texts: list[str]) -> Journal:
    """One journal for the run: the workers' records after one header, as `cleanup --journal` reads it."""
    journal = Journal(settings.report_dir / f"{stem}.journal.jsonl", settings.base_url or "", settings.prefix)
    assert journal.path is not None
    with journal.path.open("a", encoding="utf-8") as handle:
        for text in texts:
            for line in text.splitlines():
                if line.strip() and '"event": "run"' not in line:
                    handle.write(line + "\n")
    return journal


@events.init.add_listener  # type: ignore[untyped-decorator]  # Locust's hooks are untyped
def _on_init(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        master = _Master(environment)
        environment.runner.register_message(DONE_MESSAGE, lambda msg, **_kw: master.collect(msg.data))
