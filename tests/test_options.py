"""The run options are declared once: the CLI and the pytest plugin read the same table and agree."""

from __future__ import annotations

import argparse
import dataclasses

import pytest
from _pytest.config.argparsing import Parser

from scim_conformance import options
from scim_conformance.options import Connection, RunOptions


class _Config:
    """What options.from_pytest needs of a pytest.Config: getoption over a parsed namespace."""

    def __init__(self, namespace: argparse.Namespace) -> None:
        self.namespace = namespace

    def getoption(self, name: str) -> object:
        return getattr(self.namespace, name)


def _through_pytest(argv: list[str]) -> RunOptions:
    parser = Parser(_ispytest=True)  # the parser pytest hands to pytest_addoption
    options.add_to_pytest(parser.getgroup("scim-conformance"))
    return options.from_pytest(_Config(parser.parse(argv)))


def _through_cli(argv: list[str]) -> RunOptions:
    parser = argparse.ArgumentParser()
    options.add_to_argparse(parser, RunOptions)
    return options.from_namespace(RunOptions, parser.parse_args(argv))


CLI_ARGS = ["--profile", "entra-id-aadoptscim062020", "--scim-url", "https://127.0.0.1/scim", "--timeout", "3.5",
            "--strict", "--read-only", "--requirement", "ENTRA-AUTH-REQUIRED", "--requirement", "ENTRA-DEACTIVATE",
            "--seed", "7", "--max-rps", "0", "--oauth-scope", "scim", "--insecure"]


def test_the_cli_and_pytest_read_the_same_options():
    from_cli = _through_cli(CLI_ARGS)
    assert from_cli.timeout == 3.5 and from_cli.requirement == ["ENTRA-AUTH-REQUIRED", "ENTRA-DEACTIVATE"]
    assert _through_pytest(options.pytest_argv(from_cli)) == from_cli


def test_defaults_agree_and_every_option_says_what_it_does():
    assert _through_pytest([]) == _through_cli([]) == RunOptions()
    for f in dataclasses.fields(RunOptions):
        assert f.metadata["pytest"].startswith("--") and f.metadata["help"], f.name


def test_messages_quote_the_flag_the_user_typed():
    assert RunOptions(from_cli=True).flag("timeout") == "--timeout"
    assert RunOptions().flag("timeout") == "--scim-timeout"
    assert "--reference-defect" in (RunOptions(defect=["no-auth"], scim_url="https://x").usage_problem() or "")
    assert "--defect" in (RunOptions(defect=["no-auth"], scim_url="https://x", from_cli=True).usage_problem() or "")


def test_cleanup_takes_the_connection_options_of_run():
    parser = argparse.ArgumentParser()
    options.add_to_argparse(parser, Connection)
    taken = {a.dest for a in parser._actions}
    assert {f.name for f in dataclasses.fields(Connection) if f.metadata["cli"]} <= taken
    assert {"oauth_token_url", "ca_bundle", "scim_token_file"} <= taken


def test_a_token_file_that_cannot_be_read_is_one_line(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(options.OptionError, match=r"^--scim-token-file .*nope: No such file"):
        RunOptions(scim_token_file=str(missing), from_cli=True).token()
