"""The run options are declared once: the CLI and the pytest plugin read the same table and agree."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest
from _pytest.config.argparsing import Parser

from scim_conformance import options
from scim_conformance.load.workers import commands
from scim_conformance.options import Connection, LoadOptions, RunOptions


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


# --- a load run: the same table under threads (the CLI) and under Locust (the launcher's argv, the locustfile's parser)
def _changed(f: dataclasses.Field[object]) -> object:
    """A value other than the field's default, of its kind."""
    kind, default = options._kind(f), f.default
    if kind == "bool":
        return True
    if kind == "list":
        return ["first", "second"]
    if kind == "int":
        return (default if isinstance(default, int) else 0) + 3
    if kind == "float":
        return (default if isinstance(default, float) else 0.0) + 2.5
    return f"given-{f.name}"


LOAD_FIELDS = [f for f in dataclasses.fields(LoadOptions) if f.name not in ("scim_token",)]


def _through_load_cli(argv: list[str]) -> LoadOptions:
    parser = argparse.ArgumentParser()
    options.add_to_argparse(parser, LoadOptions)
    return options.from_namespace(LoadOptions, parser.parse_args(argv))


def _through_locust(given: LoadOptions) -> LoadOptions:
    """What the locustfile reads from the command line `load --locust-workers` writes for its master."""
    master, _worker = commands(given, 5557)
    parser = argparse.ArgumentParser()
    parser.add_argument("-u", dest="num_users", type=int)  # the Locust options the launcher also writes
    parser.add_argument("--expect-workers", dest="expect_workers", type=int)
    options.add_to_locust(parser.add_argument_group("scim-conformance"))
    parsed, rest = parser.parse_known_args(master[master.index("--loglevel"):])
    assert not [arg for arg in rest if arg.startswith("--scim-")], rest
    return options.from_locust(parsed, workers=parsed.expect_workers, master=True)


@pytest.mark.parametrize("name", [f.name for f in LOAD_FIELDS])
def test_each_load_option_reaches_the_run_under_threads_and_locust(name: str):
    f = next(f for f in LOAD_FIELDS if f.name == name)
    value = _changed(f)
    given = LoadOptions(**{"locust_workers": 2, name: value})  # type: ignore[arg-type]
    assert getattr(given, name) == value
    if f.metadata["cli"]:
        argv = [f.metadata["cli"]] if value is True else \
            [arg for item in (value if isinstance(value, list) else [value]) for arg in (f.metadata["cli"], str(item))]
        if name != "locust_workers":
            argv += ["--locust-workers", "2"]
        assert _through_load_cli(argv) == given
    assert _through_locust(given) == given


def test_no_scim_spelling_outside_the_options_table():
    """The Locust spelling of every option is made in options.py; no other module writes a --scim- flag."""
    package = Path(options.__file__).parent
    for path in package.rglob("*.py"):
        if path.name != "options.py":
            assert not re.search(r"[\"']--scim-", path.read_text(encoding="utf-8")), path


def test_load_takes_profile_once_and_run_repeats_it():
    load = argparse.ArgumentParser()
    options.add_to_argparse(load, LoadOptions)
    run = argparse.ArgumentParser()
    options.add_to_argparse(run, RunOptions, repeatable=True)
    (load_profile,) = [a for a in load._actions if a.dest == "profile"]
    (run_profile,) = [a for a in run._actions if a.dest == "profile"]
    assert isinstance(load_profile, argparse._StoreAction) and "repeat" not in (load_profile.help or "")
    assert isinstance(run_profile, argparse._AppendAction) and "repeat" in (run_profile.help or "")
