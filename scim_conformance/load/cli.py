"""`scim-conformance load`: its options, and the choice between this machine's threads and Locust workers."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scim_conformance import options
from scim_conformance.options import OptionError, Target
from scim_conformance.outcomes import ExitCode

if TYPE_CHECKING:
    from scim_conformance.load.run import LoadSettings

# Building `scim-conformance`'s parser imports this module: the load machinery (faker among it) is imported only
# when a load runs, so that a conformance run's pytest still finds faker unimported (no rewrite warning).


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The same target, profile, report, seed, token, TLS and OAuth options as `run`, from the one table.
    options.add_to_argparse(parser, Target)
    # The load itself.
    parser.add_argument("--users", type=int, default=200, help="users in the initial cycle (default 200)")
    parser.add_argument("--groups", type=int, default=10, help="groups in the initial cycle (default 10)")
    parser.add_argument("--rate", type=float, default=0.0, metavar="R",
                        help="at most R requests/s (default 0: as fast as --concurrency allows, as Entra sends to "
                             "a non-gallery app)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="C",
                        help="requests in flight (default 4; with --locust-workers, per worker)")
    parser.add_argument("--duration", type=float, default=120.0, metavar="S",
                        help="stop sending the cycle after S seconds (default 120); removal still runs")
    parser.add_argument("--max-requests", type=int, default=20000, metavar="N",
                        help="stop sending the cycle after N requests (default 20000); removal still runs")
    parser.add_argument("--gallery", action="store_true",
                        help="judge as for Entra gallery certification: 25 requests/s is a MUST, not a SHOULD")
    parser.add_argument("--locust-workers", type=int, default=0, metavar="K",
                        help="run the cycle on K local Locust workers (needs the 'load' extra)")
    parser.add_argument("--server-rate-limit", type=float, default=None, metavar="RPS",
                        help="with the bundled server: answer 429 with Retry-After beyond RPS requests/s")


def run(args: argparse.Namespace) -> int:
    """The CLI entry: check the options, then one load run; the exit code as for `run`."""
    try:
        settings = settings_from(args)
    except ValueError as exc:
        print(f"scim-conformance load: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    code, _document = run_load(settings)
    return code


def settings_from(args: argparse.Namespace) -> LoadSettings:
    from scim_conformance.load.run import LoadSettings
    from scim_conformance.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise ValueError(f"profile error: {exc}") from None
    for name in ("users", "concurrency", "max_requests"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.groups < 0 or args.rate < 0 or args.duration <= 0 or args.locust_workers < 0:
        raise ValueError("--groups, --rate and --locust-workers must not be negative, --duration must be positive")
    if args.locust_workers and importlib.util.find_spec("locust") is None:
        raise ValueError("--locust-workers needs Locust: pip install 'scim-conformance[load]'")
    if args.scim_url and (args.defect or args.server_rate_limit):
        raise ValueError("--defect and --server-rate-limit apply to the bundled reference server only")
    connection = dataclasses.replace(options.from_namespace(Target, args), from_cli=True)
    try:
        token = connection.token()
        provider = connection.token_provider()
    except OptionError as exc:
        raise ValueError(str(exc)) from None
    if args.scim_url and not connection.has_credentials():
        raise ValueError(connection.missing_token(args.scim_url))
    verify = connection.verify
    return LoadSettings(
        profile=profile, base_url=args.scim_url, token=token, token_provider=provider, verify=verify,
        timeout=args.timeout, users=args.users, groups=args.groups, rate=args.rate, concurrency=args.concurrency,
        duration=args.duration, max_requests=args.max_requests, gallery=args.gallery, strict=args.strict,
        seed=args.seed if args.seed is not None else secrets.randbelow(2**31), email_domain=args.email_domain,
        report_dir=Path(args.report_dir),
        defects=tuple(args.defect), server_rate_limit=args.server_rate_limit, locust_workers=args.locust_workers)


def run_load(settings: LoadSettings) -> tuple[int, dict[str, Any] | None]:
    """One load run; (exit code, result document)."""
    from scim_conformance.load.generator import interrupt_on_sigterm
    from scim_conformance.load.run import run_threads

    server = None
    if settings.base_url is None:
        from scim_conformance.server import ReferenceServer

        settings.token = settings.token or secrets.token_urlsafe(24)
        try:
            server = ReferenceServer(token=settings.token, defects=settings.defects,
                                     rate_limit=settings.server_rate_limit).start()
        except ValueError as exc:
            print(f"scim-conformance load: {exc}", file=sys.stderr)
            return int(ExitCode.USAGE), None
        settings.base_url = server.base_url
    try:
        if settings.locust_workers:
            from scim_conformance.load.workers import run_with_workers

            with interrupt_on_sigterm():  # the workers are stopped, and what they journalled is swept
                return run_with_workers(settings, embedded=server is not None)
        return run_threads(settings, embedded=server is not None)
    finally:
        if server is not None:
            server.stop()


