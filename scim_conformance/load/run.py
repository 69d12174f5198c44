"""One load run on this machine's threads, and what every load run ends with (judging and the reports).

A run: preflight, the race probes, Entra's cycle (users, groups, changes, removal) within the bounds, a
sweep of anything the journal still lists, then the result document, JUnit and HTML. Ctrl-C and SIGTERM
stop the workers and still sweep and write the reports (without a verdict). Locust runs (`workers`,
`locustfile`) end in the same `finish`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scim_conformance.client import ScimClient
from scim_conformance.identities import IdentityFactory
from scim_conformance.journal import Journal
from scim_conformance.load.generator import Progress, Sender, Traffic, interrupt_on_sigterm, run_phases
from scim_conformance.load.measurements import Measurements
from scim_conformance.load.result import build_results, judge, load_profile_view, write_reports
from scim_conformance.load.scenario import RACE_WIDTH, EntraCycle
from scim_conformance.options import Connection
from scim_conformance.outcomes import ExitCode
from scim_conformance.preflight import PreflightError, preflight
from scim_conformance.profile import Profile
from scim_conformance.requirements import load_registry


@dataclass
class LoadSettings:
    profile: Profile
    base_url: str | None
    token: str | None
    token_provider: Any = None
    verify: bool | str = True
    timeout: float = 10.0
    users: int = 200
    groups: int = 10
    rate: float = 0.0
    concurrency: int = 4
    duration: float = 120.0
    max_requests: int = 20000
    gallery: bool = False
    strict: bool = False
    seed: int = 0
    email_domain: str | None = None
    report_dir: Path = Path("reports")
    defects: tuple[str, ...] = ()
    server_rate_limit: float | None = None
    locust_workers: int = 0
    progress: TextIO | None = None
    extra_meta: dict[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"scimc{self.seed:x}"[:13]

    def client(self, base_url: str) -> ScimClient:
        """A client as `run` builds it, without a transcript and leaving 429s to the generator."""
        return ScimClient(base_url, self.token, headers=self.profile.dialect.headers, timeout=self.timeout,
                          verify=self.verify, token_provider=self.token_provider, record=False, retry_429=False)

    def as_meta(self) -> dict[str, Any]:
        return {"users": self.users, "groups": self.groups, "rate": self.rate, "concurrency": self.concurrency,
                "duration_s": self.duration, "max_requests": self.max_requests, "gallery": self.gallery,
                "locust_workers": self.locust_workers, "server_rate_limit": self.server_rate_limit}


def _flag(name: str) -> str:
    """The load command's spelling of an option named in a preflight hint."""
    return "--rate" if name == "max_rps" else Connection(from_cli=True).flag(name)


def stem_for(profile: Profile) -> str:
    return f"{profile.name}-load-{time.strftime('%Y%m%d-%H%M%S')}"


def run_threads(settings: LoadSettings, *, embedded: bool) -> tuple[int, dict[str, Any] | None]:
    assert settings.base_url is not None
    base_url = settings.base_url
    probe_client = settings.client(base_url)
    try:
        preflight(probe_client, _flag)
    except PreflightError as exc:
        print(f"scim-conformance load: preflight: {exc}", file=sys.stderr)
        return int(ExitCode.UNUSABLE), None
    stem = stem_for(settings.profile)
    journal = Journal(settings.report_dir / f"{stem}.journal.jsonl", base_url, settings.prefix)
    identities = IdentityFactory(settings.profile, settings.prefix, settings.seed, settings.email_domain)
    cycle = EntraCycle(settings.profile, identities, journal, users=settings.users, groups=settings.groups)
    measurements = Measurements()
    traffic = Traffic(measurements, rate=settings.rate, duration=settings.duration,
                      max_requests=settings.max_requests)
    # The probes fire their requests together on purpose: neither paced nor counted against the cycle's bounds.
    unpaced = Traffic(measurements, rate=0, duration=max(settings.duration, 600), max_requests=10**9)
    unpaced.stop = traffic.stop
    clients = [settings.client(base_url) for _ in range(max(settings.concurrency, RACE_WIDTH))]
    progress = Progress(traffic, cycle.planned_requests(), settings.duration, settings.progress)
    interrupted = False
    phases: list[str] = []
    probes = []
    with interrupt_on_sigterm():
        try:
            probes = cycle.probes([Sender(c, unpaced) for c in clients])
            phases = run_phases(cycle.phases(), [Sender(c, traffic) for c in clients[:settings.concurrency]],
                                traffic, progress)
        except KeyboardInterrupt:
            interrupted = True
            traffic.interrupt()
        finally:
            progress.close()
            from scim_conformance.cleanup import sweep

            cleanup_failures = sweep(probe_client, journal)
    for client in clients:
        client.close()
    load = {"settings": settings.as_meta(), "phases": phases, "stopped_by": traffic.stopped_by,
            "job_errors": traffic.job_errors[:20], "summary": measurements.summary()}
    return finish(settings, measurements, probes, load, stem=stem, embedded=embedded, journal=journal,
                  cleanup_failures=cleanup_failures, interrupted=interrupted, requests=measurements.requests)


def finish(settings: LoadSettings, measurements: Measurements, probes: list[Any], load: dict[str, Any], *,
           stem: str, embedded: bool, journal: Journal, cleanup_failures: list[str], interrupted: bool,
           requests: int) -> tuple[int, dict[str, Any]]:
    """Judge, write the reports, say the verdict in one line; (exit code, document)."""
    registry = load_registry()
    profile = load_profile_view(settings.profile, registry, gallery=settings.gallery)
    stimulus = (f"Entra's initial cycle for {settings.users} users and {settings.groups} groups, then changes and "
                f"removal, at concurrency {settings.concurrency}" + (f", up to {settings.rate:g} req/s"
                                                                    if settings.rate else ""))
    records = judge(measurements, probes, rate=settings.rate, concurrency=settings.concurrency, stimulus=stimulus,
                    stopped_by=load.get("stopped_by"))
    meta = {"target": settings.base_url, "embedded_server": embedded, "seed": settings.seed,
            "prefix": settings.prefix, "read_only": False,
            "reference_defects": list(settings.defects) if embedded else [], "requests": requests,
            "transport_findings": [], "cleanup_failures": cleanup_failures, **settings.extra_meta}
    if journal.path is not None:
        meta["journal"] = str(journal.path)
    if interrupted:
        meta["interrupted"] = True
    results, document = build_results(registry, profile, records, meta, load, strict=settings.strict,
                                      started=measurements.started)
    paths = write_reports(document, settings.report_dir, stem)
    verdict = document["verdict"]
    summary = load["summary"]
    print(f"load: {summary['served_per_second']} req/s answered, {summary['server_errors']} x 5xx, "
          f"{summary['timeouts']} timeouts; report {paths['html']}", file=settings.progress or sys.stderr)
    out = settings.progress or sys.stderr
    for requirement in document["requirements"]:
        word = {"fail": "FAIL", "deviation": "MISS"}.get(requirement["outcome"])
        if word:
            found = next((c["actual"] for c in document["checks"] if requirement["id"] in c["failed_requirements"]), "")
            print(f"{word}  {requirement['id']} ({requirement['severity']}) {requirement['text']}\n      {found}",
                  file=out)
    print(verdict["summary"], file=out)
    if interrupted:
        return int(ExitCode.USAGE), document
    return int(results.exit_code()), document
