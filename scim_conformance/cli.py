"""`scim-conformance`: run a profile against an endpoint, list profiles, serve the reference server, clean up.

Exit codes (for CI gates):
  0  every MUST requirement passes (SHOULD deviations are reported, not fatal, unless --strict)
  1  a MUST requirement fails
  2  usage or profile error (also: interrupted)
  3  the target is unreachable or unusable (stopped at preflight), or checks could not run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from scim_conformance import __version__
from scim_conformance.paths import checks_dir
from scim_conformance.profile import ProfileError, available_profiles, describe, load_profile

EXIT_USAGE = 2


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="entra-id", help="profile name or YAML file (default entra-id)")
    parser.add_argument("--scim-url", help="SCIM base URL (default: start the bundled reference server)")
    parser.add_argument("--scim-token-env", default="SCIM_TOKEN", metavar="NAME",
                        help="environment variable with the bearer token (default SCIM_TOKEN)")
    parser.add_argument("--scim-token-file", metavar="PATH", help="file with the bearer token")
    parser.add_argument("--scim-token", help=argparse.SUPPRESS)
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle for the server's TLS certificate")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (unsafe)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S", help="per-request timeout (default 10)")
    parser.add_argument("--max-rps", type=float, default=50.0, help="request rate limit (default 50/s; 0: none)")
    parser.add_argument("--report-dir", default="reports", help="where reports are written (default reports/)")
    parser.add_argument("--seed", type=int, help="seed for generated identities (a run prints its seed)")
    parser.add_argument("--strict", action="store_true", help="SHOULD requirements fail the run too")
    parser.add_argument("--read-only", action="store_true", help="run only the checks that create nothing")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the checks and what they would create, without sending any request")
    parser.add_argument("--requirement", action="append", default=[], metavar="ID",
                        help="run only checks verifying this requirement (repeatable)")
    parser.add_argument("--oauth-token-url", metavar="URL",
                        help="get the token with OAuth 2.0 client credentials from this token endpoint")
    parser.add_argument("--oauth-client-id", metavar="ID", help="OAuth client id")
    parser.add_argument("--oauth-client-secret-env", default="OAUTH_CLIENT_SECRET", metavar="NAME",
                        help="environment variable with the OAuth client secret (default OAUTH_CLIENT_SECRET)")
    parser.add_argument("--oauth-scope", metavar="SCOPE", help="OAuth scope to ask for (optional)")
    parser.add_argument("--defect", action="append", default=[], metavar="NAME",
                        help="with the bundled server: switch one of its defects on (see serve --list-defects)")
    parser.add_argument("--quirk", action="append", default=[], metavar="NAME",
                        help="with the bundled server: switch one of its legal quirks on (see serve --list-quirks)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER,
                        help="after --: passed to pytest as they are (-k, -x, -n 2, -v …)")


def _pytest_argv(args: argparse.Namespace) -> list[str]:
    argv = [str(checks_dir()), "-p", "no:cacheprovider", "-q", "--no-header", "-p", "scim_conformance.plugin",
            "--rootdir", str(checks_dir()), "-c", os.devnull,
            "--profile", args.profile, "--report-dir", args.report_dir, "--scim-timeout", str(args.timeout),
            "--max-rps", str(args.max_rps), "--scim-token-env", args.scim_token_env,
            "--oauth-client-secret-env", args.oauth_client_secret_env]
    for flag, value in (("--scim-url", args.scim_url), ("--scim-token-file", args.scim_token_file),
                        ("--scim-token", args.scim_token), ("--ca-bundle", args.ca_bundle),
                        ("--seed", args.seed), ("--oauth-token-url", args.oauth_token_url),
                        ("--oauth-client-id", args.oauth_client_id), ("--oauth-scope", args.oauth_scope)):
        if value is not None:
            argv += [flag, str(value)]
    for flag, option in (("strict", "--scim-strict"), ("insecure", "--insecure"), ("read_only", "--read-only"),
                         ("dry_run", "--dry-run")):
        if getattr(args, flag):
            argv.append(option)
    for requirement in args.requirement:
        argv += ["--requirement", requirement]
    for defect in args.defect:
        argv += ["--reference-defect", defect]
    for quirk in args.quirk:
        argv += ["--reference-quirk", quirk]
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    return argv + extra


def cmd_run(args: argparse.Namespace) -> int:
    try:
        load_profile(args.profile)  # fail before pytest starts, with one line
    except ProfileError as exc:
        print(f"scim-conformance: profile error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.scim_url and not (os.environ.get(args.scim_token_env) or args.scim_token_file or args.scim_token
                              or args.oauth_token_url):
        print(f"scim-conformance: no bearer token for {args.scim_url}: set ${args.scim_token_env} "
              "(or use --scim-token-file, or --oauth-token-url)", file=sys.stderr)
        return EXIT_USAGE
    if (args.defect or args.quirk) and args.scim_url:
        print("scim-conformance: --defect and --quirk apply to the bundled reference server only (drop --scim-url)",
              file=sys.stderr)
        return EXIT_USAGE
    import pytest

    code = int(pytest.main(_pytest_argv(args)))
    if args.dry_run and code == 5:
        return 0  # a dry run deselects every check on purpose
    # pytest's own codes for usage problems and empty selections fold into ours.
    return {4: EXIT_USAGE, 5: EXIT_USAGE}.get(code, code)


def cmd_profiles(args: argparse.Namespace) -> int:
    if args.show:
        try:
            profile = load_profile(args.show)
        except ProfileError as exc:
            print(f"scim-conformance: profile error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(json.dumps(profile.as_dict(), indent=2) if args.json else _yaml(profile.as_dict()))
        return 0
    status = 0
    for path in available_profiles():
        try:
            print(describe(load_profile(str(path))))
        except ProfileError as exc:
            print(f"{path.stem:<28} BROKEN: {exc}")
            status = EXIT_USAGE
    return status


def _yaml(data: object) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110).rstrip()


def cmd_serve(args: argparse.Namespace) -> int:
    from scim_conformance.server import cli as server_cli

    return int(server_cli.run(args))


def cmd_cleanup(args: argparse.Namespace) -> int:
    from scim_conformance.cleanup import run_cleanup

    return run_cleanup(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scim-conformance",
        description="Check a SCIM 2.0 endpoint against what an identity provider really sends.",
        epilog="Exit codes: 0 all MUST requirements pass; 1 a MUST requirement fails; 2 usage or profile "
               "error; 3 target unreachable or unusable.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a profile's checks and write the reports")
    _run_arguments(run)
    run.set_defaults(handler=cmd_run)

    profiles = commands.add_parser("profiles", help="list profiles, or --show one after extends is resolved")
    profiles.add_argument("--show", metavar="NAME", help="print the effective profile")
    profiles.add_argument("--json", action="store_true", help="with --show: JSON instead of YAML")
    profiles.set_defaults(handler=cmd_profiles)

    serve = commands.add_parser("serve", help="run the bundled reference SCIM server")
    try:
        from scim_conformance.server import cli as server_cli

        server_cli.add_arguments(serve)
    except ImportError:  # pragma: no cover - the server ships with the package
        pass
    serve.set_defaults(handler=cmd_serve)

    cleanup = commands.add_parser("cleanup", help="remove what an interrupted run left behind")
    cleanup.add_argument("--journal", type=Path, help="the run's journal file (reports/*.journal.jsonl)")
    cleanup.add_argument("--prefix", help="remove users and groups whose name starts with this run prefix")
    cleanup.add_argument("--scim-url", help="SCIM base URL (default: the one in the journal)")
    cleanup.add_argument("--scim-token-env", default="SCIM_TOKEN", metavar="NAME")
    cleanup.add_argument("--scim-token-file", metavar="PATH")
    cleanup.add_argument("--ca-bundle", metavar="PATH")
    cleanup.add_argument("--insecure", action="store_true")
    cleanup.add_argument("--yes", action="store_true", help="with --prefix: delete after listing (default: list only)")
    cleanup.set_defaults(handler=cmd_cleanup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("scim-conformance: interrupted", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
