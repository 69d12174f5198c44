"""`scim-conformance`: run a profile against an endpoint, compare two runs, list profiles, serve the reference
server, clean up.

The run options are declared once, in options.py; the exit codes once, in outcomes.ExitCode.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from scim_conformance import __version__, options, outcomes
from scim_conformance.options import Connection, RunOptions
from scim_conformance.outcomes import ExitCode
from scim_conformance.paths import checks_dir
from scim_conformance.profile import ProfileError, available_profiles, describe, load_profile

# A run loads the pytest plugins it uses rather than every one installed: importing them all (and marking their
# whole packages for assertion rewriting) was a third of a run's start-up. They are named by module, not by
# entry point: `-p html` would first mark the standard library's `html` for rewriting, which pytest warns about.
HTML_PLUGINS = ("pytest_html.plugin", "pytest_metadata.plugin")  # pytest-html, and pytest-metadata that it needs
XDIST_OPTIONS = ("-n", "--numprocesses", "--maxprocesses", "--dist", "-d", "--tx", "--max-worker-restart")


def _plugins(run: RunOptions, extra: Sequence[str]) -> list[str]:
    """The modules of a run's pytest plugins: its own, pytest-html only for an HTML report (its import and its
    hooks on every check are a tenth of a run), xdist only when an argument after `--` asks for it."""
    modules = ["scim_conformance.plugin", *(HTML_PLUGINS if "html" in run.reports else ())]
    if _uses_xdist(extra):
        modules.append("xdist.plugin")
    return modules


def _uses_xdist(extra: Sequence[str]) -> bool:
    return any(arg.split("=")[0] in XDIST_OPTIONS or (arg.startswith("-n") and not arg.startswith("--"))
               for arg in extra)


def _pytest_call(run: RunOptions, extra: list[str]) -> tuple[list[str], list[ModuleType]]:
    """pytest's arguments, and the plugin modules handed to it as objects.

    `-p NAME` makes pytest look for NAME among the entry points of every installed package before importing
    it: a tenth of a second of start-up in an environment with many packages. xdist's workers find their
    plugins in the arguments only, so a run under xdist names them with `-p`.

    `--confcutdir` keeps collection inside the checks directory. Without it (the ini file being /dev/null),
    pytest starts collecting at / and looks at every entry of every directory above the checks: in a checkout
    under a crowded directory (a clone in /tmp with a thousand neighbours) that was a third of a run.
    """
    if extra and extra[0] == "--":
        extra = extra[1:]
    modules = _plugins(run, extra)
    named = [arg for module in modules for arg in ("-p", module)] if _uses_xdist(extra) else []
    argv = [str(checks_dir()), "-p", "no:cacheprovider", "-q", "--no-header", "--disable-plugin-autoload", *named,
            "--rootdir", str(checks_dir()), "--confcutdir", str(checks_dir()), "-c", os.devnull,
            *options.pytest_argv(run)]
    return argv + extra, [] if named else [importlib.import_module(module) for module in modules]


def cmd_run(args: argparse.Namespace) -> int:
    if len(args.profile) > 1:
        return _run_each_profile(args, list(args.profile))
    run = dataclasses.replace(options.from_namespace(RunOptions, args), from_cli=True)
    try:
        load_profile(run.profile)  # fail before pytest starts, with one line
    except ProfileError as exc:
        print(f"scim-conformance: profile error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    problem = run.usage_problem()
    if problem:
        print(f"scim-conformance: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    import pytest

    argv, plugins = _pytest_call(run, list(args.pytest_args))
    return outcomes.from_pytest(int(pytest.main(argv, plugins=plugins)), dry_run=run.dry_run)


def _without_profiles(argv: list[str]) -> list[str]:
    """The `run` arguments with every --profile taken out (each profile's run gets its own)."""
    out: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--":
            return out + argv[i:]
        elif arg == "--profile":
            skip = True
        elif not arg.startswith("--profile="):
            out.append(arg)
    return out


def _run_each_profile(args: argparse.Namespace, profiles: list[str]) -> int:
    """`run --profile A --profile B`: one run per profile, then one report with a verdict per identity provider."""
    import subprocess

    from scim_conformance.report import combined

    if args.baseline:
        # A baseline is one profile's run; each profile would need its own.
        print("scim-conformance: --baseline applies to a run of one profile", file=sys.stderr)
        return ExitCode.USAGE
    if "json" not in options.from_namespace(RunOptions, args).reports:
        # The combined report is made from each profile's result document.
        print("scim-conformance: a run of several profiles needs --report to include json", file=sys.stderr)
        return ExitCode.USAGE
    names = []
    for name in profiles:
        try:
            names.append(load_profile(name).name)  # every profile is checked before anything runs
        except ProfileError as exc:
            print(f"scim-conformance: profile error: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    rest = _without_profiles(args.argv[args.argv.index("run") + 1:])
    entries, codes = [], []
    for profile, name in zip(profiles, names, strict=True):
        before = set(report_dir.glob(f"{name}-*.json"))
        code = subprocess.call([sys.executable, "-m", "scim_conformance.cli", "run", "--profile", profile, *rest])
        written = sorted(set(report_dir.glob(f"{name}-*.json")) - before)
        entries.append(combined.entry(profile, written[-1] if written else None, code))
        codes.append(code)
    if args.dry_run:
        return max(codes)  # each dry run listed its checks; there is no verdict to combine
    json_path, html_path = combined.write(report_dir, entries)
    print("\n".join(["", "scim-conformance: one verdict per identity provider", *combined.lines(entries),
                      f"combined report: {json_path} ({html_path.name})"]))
    return outcomes.worst(codes)


def cmd_profiles(args: argparse.Namespace) -> int:
    if args.action == "import":
        from scim_conformance.tenant_import import run_import

        if not args.schema:
            print("scim-conformance: profiles import needs the exported schema: profiles import SCHEMA.json",
                  file=sys.stderr)
            return ExitCode.USAGE
        extends = None if args.extends in ("", "none") else args.extends
        return run_import(Path(args.schema), args.output, extends, tuple(args.role), args.force)
    if args.show:
        try:
            profile = load_profile(args.show)
        except ProfileError as exc:
            print(f"scim-conformance: profile error: {exc}", file=sys.stderr)
            return ExitCode.USAGE
        print(json.dumps(profile.as_dict(), indent=2) if args.json else _yaml(profile.as_dict()))
        return 0
    status = 0
    for path in available_profiles():
        try:
            print(describe(load_profile(str(path))))
        except ProfileError as exc:
            print(f"{path.stem:<28} BROKEN: {exc}")
            status = ExitCode.USAGE
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


def cmd_load(args: argparse.Namespace) -> int:
    from scim_conformance.load.cli import run as run_load

    return run_load(args)


def cmd_diff(args: argparse.Namespace) -> int:
    from scim_conformance.diff import run as run_diff

    return run_diff(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scim-conformance",
        description="Check a SCIM 2.0 endpoint against what an identity provider really sends.",
        epilog=ExitCode.epilog(),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a profile's checks and write the reports", epilog=ExitCode.epilog())
    options.add_to_argparse(run, RunOptions, repeatable=True)  # run: --profile may be given once per IdP
    run.add_argument("pytest_args", nargs=argparse.REMAINDER,
                     help="after --: passed to pytest as they are (-k, -x, -n 2, -v …); plugins other than "
                          "pytest-html and pytest-xdist load with -p NAME")
    run.set_defaults(handler=cmd_run)

    profiles = commands.add_parser("profiles", help="list profiles, or --show one after extends is resolved")
    profiles.add_argument("--show", metavar="NAME", help="print the effective profile")
    profiles.add_argument("--json", action="store_true", help="with --show: JSON instead of YAML")
    # `profiles import SCHEMA.json`: the tenant's provisioning schema as Entra exports it becomes a profile.
    profiles.add_argument("action", nargs="?", choices=["import"], help="import: write a profile from SCHEMA")
    profiles.add_argument("schema", nargs="?", metavar="SCHEMA.json",
                          help="the schema Entra exports (Attribute mappings > Review your schema > Download)")
    profiles.add_argument("-o", "--output", type=Path, metavar="FILE.yaml",
                          help="with import: the profile to write (default: named after SCHEMA)")
    profiles.add_argument("--extends", default="entra-id", metavar="PROFILE",
                          help="with import: the IdP profile the tenant's builds on (default entra-id; none: none)")
    profiles.add_argument("--role", action="append", default=[], metavar="VALUE",
                          help="with import: an app role value (repeatable; the first is assigned to generated users)")
    profiles.add_argument("--force", action="store_true", help="with import: replace an existing profile file")
    profiles.set_defaults(handler=cmd_profiles)

    serve = commands.add_parser("serve", help="run the bundled reference SCIM server")
    try:
        from scim_conformance.server import cli as server_cli

        server_cli.add_arguments(serve)
    except ImportError:  # pragma: no cover - the server ships with the package
        pass
    serve.set_defaults(handler=cmd_serve)

    load = commands.add_parser("load", help="replay Entra's initial cycle under load; throughput, 429s and races")
    from scim_conformance.load.cli import add_arguments as load_arguments

    load_arguments(load)
    load.set_defaults(handler=cmd_load)

    from scim_conformance.diff import EPILOG as DIFF_EPILOG
    from scim_conformance.diff import add_arguments as diff_arguments

    diff = commands.add_parser("diff", help="what changed between two runs of one profile (exit 1: a regression)",
                               epilog=DIFF_EPILOG)
    diff_arguments(diff)
    diff.set_defaults(handler=cmd_diff)

    cleanup = commands.add_parser("cleanup", help="remove what an interrupted run left behind")
    cleanup.add_argument("--journal", type=Path, help="the run's journal file (reports/*.journal.jsonl)")
    cleanup.add_argument("--prefix", help="remove users and groups whose name starts with this run prefix")
    options.add_to_argparse(cleanup, Connection)  # the same credentials as the run (--scim-url: else the journal's)
    cleanup.add_argument("--yes", action="store_true", help="with --prefix: delete after listing (default: list only)")
    cleanup.set_defaults(handler=cmd_cleanup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # a run of several profiles passes them on
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("scim-conformance: interrupted", file=sys.stderr)
        return ExitCode.USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
