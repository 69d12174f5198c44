"""`scim-conformance load`: its options (the one table, `options.LoadOptions`) and the command's entry."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from scim_conformance import options
from scim_conformance.options import LoadOptions, OptionError
from scim_conformance.outcomes import ExitCode

# Building `scim-conformance`'s parser imports this module: the load machinery (faker among it) is imported only
# when a load runs, so that a conformance run's pytest still finds faker unimported (no rewrite warning).


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The same target, profile, report, seed, token, TLS and OAuth options as `run`, and the load's own.
    options.add_to_argparse(parser, LoadOptions)


def run(args: argparse.Namespace) -> int:
    """The CLI entry: one load run; a usage problem is one line and exit 2, as for `run`."""
    from scim_conformance.load.run import run_load

    load = dataclasses.replace(options.from_namespace(LoadOptions, args), from_cli=True)
    try:
        code, _document = run_load(load)
    except OptionError as exc:
        print(f"scim-conformance load: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    return code
