"""`scim-conformance load`: the options, and one run from start to reports.

A run: preflight, the race probes, Entra's cycle (users, groups, changes, removal) within the bounds, a
sweep of anything the journal still lists, then the result document, JUnit and HTML. Ctrl-C and SIGTERM
stop the workers and still sweep and write the reports (without a verdict).
"""

from __future__ import annotations

import argparse
import os
import secrets
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
from scim_conformance.preflight import EXIT_UNUSABLE, PreflightError, preflight
from scim_conformance.profile import Profile, ProfileError, load_profile
from scim_conformance.requirements import load_registry

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The connection options carry the names `run` gives them.
    parser.add_argument("--profile", default="entra-id", help="profile name or YAML file (default entra-id)")
    parser.add_argument("--scim-url", help="SCIM base URL (default: start the bundled reference server)")
    parser.add_argument("--scim-token-env", default="SCIM_TOKEN", metavar="NAME",
                        help="environment variable with the bearer token (default SCIM_TOKEN)")
    parser.add_argument("--scim-token-file", metavar="PATH", help="file with the bearer token")
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle for the server's TLS certificate")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (unsafe)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="per-request timeout (default 10)")
    parser.add_argument("--oauth-token-url", metavar="URL",
                        help="get the token with OAuth 2.0 client credentials from this token endpoint")
    parser.add_argument("--oauth-client-id", metavar="ID", help="OAuth client id")
    parser.add_argument("--oauth-client-secret-env", default="OAUTH_CLIENT_SECRET", metavar="NAME",
                        help="environment variable with the OAuth client secret (default OAUTH_CLIENT_SECRET)")
    parser.add_argument("--oauth-scope", metavar="SCOPE", help="OAuth scope to ask for (optional)")
    parser.add_argument("--report-dir", default="reports", help="where reports are written (default reports/)")
    parser.add_argument("--seed", type=int, help="seed for generated identities")
    parser.add_argument("--strict", action="store_true", help="SHOULD requirements fail the run too")
    # The load itself.
    parser.add_argument("--users", type=int, default=200, help="users in the initial cycle (default 200)")
    parser.add_argument("--groups", type=int, default=10, help="groups in the initial cycle (default 10)")
    parser.add_argument("--rate", type=float, default=0.0, metavar="R",
                        help="at most R requests/s (default 0: as fast as --concurrency allows, as Entra sends to "
                             "a non-gallery app)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="C", help="requests in flight (default 4)")
    parser.add_argument("--duration", type=float, default=120.0, metavar="S",
                        help="stop sending the cycle after S seconds (default 120); removal still runs")
    parser.add_argument("--max-requests", type=int, default=20000, metavar="N",
                        help="stop sending the cycle after N requests (default 20000); removal still runs")
    parser.add_argument("--gallery", action="store_true",
                        help="judge as for Entra gallery certification: 25 requests/s is a MUST, not a SHOULD")
    parser.add_argument("--locust-workers", type=int, default=0, metavar="K",
                        help="run the cycle on K local Locust workers (needs the 'load' extra)")
    parser.add_argument("--defect", action="append", default=[], metavar="NAME",
                        help="with the bundled server: switch one of its defects on (see serve --list-defects)")
    parser.add_argument("--server-rate-limit", type=float, default=None, metavar="RPS",
                        help="with the bundled server: answer 429 with Retry-After beyond RPS requests/s")


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


def run(args: argparse.Namespace) -> int:
    """The CLI entry: check the options, then one load run; the exit code as for `run`."""
    try:
        settings = settings_from(args)
    except ValueError as exc:
        print(f"scim-conformance load: {exc}", file=sys.stderr)
        return EXIT_USAGE
    code, _document = run_load(settings)
    return code


def settings_from(args: argparse.Namespace) -> LoadSettings:
    from scim_conformance.cleanup import _token

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise ValueError(f"profile error: {exc}") from None
    for name in ("users", "concurrency", "max_requests"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.groups < 0 or args.rate < 0 or args.duration <= 0 or args.locust_workers < 0:
        raise ValueError("--groups, --rate and --locust-workers must not be negative, --duration must be positive")
    if args.scim_url and (args.defect or args.server_rate_limit):
        raise ValueError("--defect and --server-rate-limit apply to the bundled reference server only")
    try:
        token = _token(args)
    except OSError as exc:
        raise ValueError(f"--scim-token-file {args.scim_token_file}: {exc.strerror}") from None
    verify: bool | str = False if args.insecure else (args.ca_bundle or True)
    provider = None
    if args.oauth_token_url:
        from scim_conformance.oauth import ClientCredentials

        secret = os.environ.get(args.oauth_client_secret_env)
        if not args.oauth_client_id or not secret:
            raise ValueError(f"--oauth-token-url needs --oauth-client-id and the secret in "
                             f"${args.oauth_client_secret_env}")
        provider = ClientCredentials(args.oauth_token_url, args.oauth_client_id, secret, args.oauth_scope,
                                     timeout=args.timeout, verify=verify)
    if args.scim_url and not token and provider is None:
        raise ValueError(f"no bearer token for {args.scim_url}: set ${args.scim_token_env} "
                         "(or use --scim-token-file, or --oauth-token-url)")
    return LoadSettings(
        profile=profile, base_url=args.scim_url, token=token, token_provider=provider, verify=verify,
        timeout=args.timeout, users=args.users, groups=args.groups, rate=args.rate, concurrency=args.concurrency,
        duration=args.duration, max_requests=args.max_requests, gallery=args.gallery, strict=args.strict,
        seed=args.seed if args.seed is not None else secrets.randbelow(2**31), report_dir=Path(args.report_dir),
        defects=tuple(args.defect), server_rate_limit=args.server_rate_limit, locust_workers=args.locust_workers)


def run_load(settings: LoadSettings) -> tuple[int, dict[str, Any] | None]:
    """One load run; (exit code, result document)."""
    server = None
    if settings.base_url is None:
        from scim_conformance.server import ReferenceServer

        settings.token = settings.token or secrets.token_urlsafe(24)
        try:
            server = ReferenceServer(token=settings.token, defects=settings.defects,
                                     rate_limit=settings.server_rate_limit).start()
        except ValueError as exc:
            print(f"scim-conformance load: {exc}", file=sys.stderr)
            return EXIT_USAGE, None
        settings.base_url = server.base_url
    try:
        if settings.locust_workers:
            from scim_conformance.load.workers import run_with_workers

            with interrupt_on_sigterm():  # the workers are stopped, and what they journalled is swept
                return run_with_workers(settings, embedded=server is not None)
        return _run_threads(settings, embedded=server is not None)
    finally:
        if server is not None:
            server.stop()


def stem_for(profile: Profile) -> str:
    return f"{profile.name}-load-{time.strftime('%Y%m%d-%H%M%S')}"


def _run_threads(settings: LoadSettings, *, embedded: bool) -> tuple[int, dict[str, Any] | None]:
    assert settings.base_url is not None
    base_url = settings.base_url
    probe_client = settings.client(base_url)
    try:
        preflight(probe_client)
    except PreflightError as exc:
        print(f"scim-conformance load: preflight: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE, None
    stem = stem_for(settings.profile)
    journal = Journal(settings.report_dir / f"{stem}.journal.jsonl", base_url, settings.prefix)
    identities = IdentityFactory(settings.profile, settings.prefix, settings.seed)
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
    for rid in verdict["failing"]:
        print(f"FAIL  {rid} ({results.severity(rid)}) {registry[rid].text}", file=settings.progress or sys.stderr)
    print(verdict["summary"], file=settings.progress or sys.stderr)
    if interrupted:
        return EXIT_USAGE, document
    return results.exit_code(), document
