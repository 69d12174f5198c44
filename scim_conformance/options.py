"""The run options, declared once: each field below feeds `scim-conformance` (argparse), the pytest plugin and
the Locust entry point of a load run (`load/locustfile.py`, started by `load/workers.py`).

A field's metadata says its flag on the command line (`cli`), its flag under pytest (`pytest`, where pytest or
a common plugin already owns the short spelling: `--strict`, `--timeout`), its help, and which commands carry
it. Under Locust every option is spelled `--scim-<the CLI's name>` (`locust_flag`), because Locust owns the short
names (`--users`, `--profile`); an option Locust itself carries (`locust=False`) is read from Locust's own. Messages
quote the spelling the user actually typed (`Connection.flag`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_PROFILE = "entra-id"
# The files a conformance run can write next to each other (`--report`), by the ending of their names; the
# terminal summary is always shown. The HAR file (every exchange, for a support engineer) is written only on request.
REPORT_FORMATS = {"html": ".html", "json": ".json", "junit": ".junit.xml", "har": ".har"}
DEFAULT_REPORTS = ("html", "json", "junit")
T = TypeVar("T")


class OptionError(Exception):
    """A usage problem in the options; the message is the one line the user sees."""


def option(default: Any, cli: str | None, help: str, *, pytest: str | None = None, metavar: str | None = None,
           hidden: bool = False, cli_repeatable: str = "", locust: bool = True) -> Any:
    """A field of an options class; `cli=None` keeps it off the command line (pytest, Locust or internal only).

    `cli_repeatable`: the command line of `run` takes the flag several times, once per run (the text is added to
    the help there); `locust=False`: Locust's own option carries it (`-u`, `--expect-workers`).
    """
    factory_default: dict[str, Any] = {"default_factory": list} if isinstance(default, list) else {"default": default}
    return field(**factory_default, metadata={"cli": cli, "pytest": pytest or cli, "help": help, "metavar": metavar,
                                              "hidden": hidden, "cli_repeatable": cli_repeatable, "locust": locust})


@dataclass(frozen=True)
class Connection:
    """How to reach and authenticate to the SCIM endpoint (shared by run, cleanup and load)."""

    scim_url: str | None = option(None, "--scim-url",
                                  "SCIM base URL (default for run: start the bundled reference server)")
    scim_token_env: str = option("SCIM_TOKEN", "--scim-token-env",
                                 "environment variable holding the bearer token (default SCIM_TOKEN)", metavar="NAME")
    scim_token_file: str | None = option(None, "--scim-token-file", "file holding the bearer token", metavar="PATH")
    scim_token: str | None = option(None, "--scim-token",
                                    "the bearer token itself (visible to other users of this machine; avoid)",
                                    hidden=True)
    ca_bundle: str | None = option(None, "--ca-bundle", "CA bundle to verify the server's TLS certificate",
                                   metavar="PATH")
    insecure: bool = option(False, "--insecure", "do not verify TLS certificates (unsafe)")
    timeout: float = option(10.0, "--timeout", "per-request timeout in seconds (default 10)", pytest="--scim-timeout",
                            metavar="S")
    oauth_token_url: str | None = option(None, "--oauth-token-url",
                                         "get the bearer token with OAuth 2.0 client credentials from this token "
                                         "endpoint", metavar="URL")
    oauth_client_id: str | None = option(None, "--oauth-client-id", "OAuth client id (with --oauth-token-url)",
                                         metavar="ID")
    oauth_client_secret_env: str = option("OAUTH_CLIENT_SECRET", "--oauth-client-secret-env",
                                          "environment variable holding the OAuth client secret "
                                          "(default OAUTH_CLIENT_SECRET)", metavar="NAME")
    oauth_scope: str | None = option(None, "--oauth-scope", "OAuth scope to ask for (optional)", metavar="SCOPE")
    # Set by `scim-conformance run` when it starts pytest, so that messages quote the CLI's spelling of a flag.
    from_cli: bool = option(False, None, "internal: the run was started by scim-conformance", pytest="--scim-from-cli",
                            hidden=True)

    def flag(self, name: str) -> str:
        """The flag for field `name` as the user typed it (the CLI's spelling, or pytest's)."""
        meta = _field(type(self), name).metadata
        return str(meta["cli"] if self.from_cli and meta["cli"] else meta["pytest"])

    @property
    def verify(self) -> bool | str:
        if self.insecure:
            return False
        return self.ca_bundle or True

    def token(self) -> str | None:
        """The bearer token from --scim-token, --scim-token-file or the environment (in that order)."""
        if self.scim_token:
            warnings.warn(f"a token given with {self.flag('scim_token')} is visible in the process list and shell "
                          f"history; prefer ${self.scim_token_env} or {self.flag('scim_token_file')}", stacklevel=2)
            return self.scim_token
        if self.scim_token_file:
            try:
                return Path(self.scim_token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise OptionError(f"{self.flag('scim_token_file')} {self.scim_token_file}: {exc.strerror}") from None
        return os.environ.get(self.scim_token_env) or None

    def has_credentials(self) -> bool:
        return bool(self.scim_token or self.scim_token_file or os.environ.get(self.scim_token_env)
                    or self.oauth_token_url)

    def missing_token(self, url: str) -> str:
        return (f"no bearer token for {url}: set ${self.scim_token_env} (or use {self.flag('scim_token_file')}, "
                f"or {self.flag('oauth_token_url')})")

    def token_provider(self) -> Any:
        """OAuth 2.0 client credentials, when asked for; None for a static token."""
        if not self.oauth_token_url:
            return None
        from scim_conformance.oauth import ClientCredentials

        secret = os.environ.get(self.oauth_client_secret_env)
        if not self.oauth_client_id or not secret:
            raise OptionError(f"{self.flag('oauth_token_url')} needs {self.flag('oauth_client_id')} and the secret "
                              f"in ${self.oauth_client_secret_env}")
        return ClientCredentials(self.oauth_token_url, self.oauth_client_id, secret, self.oauth_scope,
                                 timeout=self.timeout, verify=self.verify)


@dataclass(frozen=True)
class Target(Connection):
    """What every run against a target takes, a conformance run or a load run: the profile, the reports, the data's
    seed, the strictness and, for the bundled server, its defect and quirk switches and its rate limit."""

    profile: str = option(DEFAULT_PROFILE, "--profile", f"profile name or YAML file (default {DEFAULT_PROFILE})",
                          cli_repeatable="; repeat it for one report with a verdict per identity provider")
    report_dir: str = option("reports", "--report-dir", "where the JSON, JUnit and HTML reports go (default reports/)")
    report: str = option(",".join(DEFAULT_REPORTS), "--report",
                         f"the reports to write, comma-separated: {', '.join(REPORT_FORMATS)} (default "
                         f"{','.join(DEFAULT_REPORTS)}); a CI gate may need only junit; har (run only): every request "
                         "and answer, for a support engineer", pytest="--scim-report", metavar="FORMATS")
    seed: int | None = option(None, "--seed", "seed for the generated identities (default: random, printed)")
    email_domain: str | None = option(None, "--email-domain",
                                      "domain of generated userNames and emails (default: the profile's, else "
                                      "example.com); a tenant may accept only its own verified domain",
                                      metavar="DOMAIN")
    strict: bool = option(False, "--strict", "SHOULD requirements fail the run too", pytest="--scim-strict")
    # option() gives a list default a default_factory, which ruff cannot see (RUF009).
    defect: list[str] = option([], "--defect",  # noqa: RUF009
                               "with the bundled server: switch one of its defects on (see serve --list-defects; "
                               "repeatable)", pytest="--reference-defect", metavar="NAME")
    quirk: list[str] = option([], "--quirk",  # noqa: RUF009
                              "with the bundled server: switch one of its legal quirks on (see serve --list-quirks; "
                              "repeatable)", pytest="--reference-quirk", metavar="NAME")
    server_rate_limit: float | None = option(None, "--server-rate-limit",
                                             "with the bundled server: answer 429 with Retry-After beyond RPS "
                                             "requests/s", pytest="--reference-rate-limit", metavar="RPS")

    @property
    def reports(self) -> frozenset[str]:
        """The report formats this run writes (the terminal summary is always shown)."""
        return frozenset(part.strip().lower() for part in self.report.split(",") if part.strip())

    def usage_problem(self) -> str | None:
        """What makes these options unusable before anything starts (one line), or None."""
        unknown = sorted(self.reports - set(REPORT_FORMATS))
        if unknown or not self.reports:
            return (f"{self.flag('report')}: unknown format(s) {', '.join(unknown) or '(none given)'}; "
                    f"choose from {', '.join(REPORT_FORMATS)}")
        for switch in ("defect", "quirk", "server_rate_limit"):
            if getattr(self, switch) and self.scim_url:
                return (f"{self.flag(switch)} applies to the bundled reference server only "
                        f"(drop {self.flag('scim_url')})")
        if self.defect or self.quirk:
            # Unknown switch names are refused here, before anything starts (a report directory, pytest, Locust).
            from scim_conformance.server import Defects, Quirks

            try:
                Defects(self.defect), Quirks(self.quirk)
            except ValueError as exc:
                return str(exc)
        if self.scim_url and not self.has_credentials():
            return self.missing_token(self.scim_url)
        return None


@dataclass(frozen=True)
class RunOptions(Target):
    """Everything `scim-conformance run` (and `pytest conformance`) takes."""

    max_rps: float = option(50.0, "--max-rps", "at most this many requests per second (default 50; 0: no limit)")
    read_only: bool = option(False, "--read-only", "run only the checks that create nothing")
    dry_run: bool = option(False, "--dry-run",
                           "list the checks, their requirements and what they would create; send nothing")
    requirement: list[str] = option([], "--requirement",  # noqa: RUF009
                                    "run only the checks verifying this requirement (repeatable)", metavar="ID")
    no_advisory: bool = option(False, "--no-advisory",
                               "leave out the profile's advisory checks (e.g. the RFC 7644 section of an Entra run): "
                               "a shorter run, the same verdict")
    baseline: str | None = option(None, "--baseline",
                                  "an earlier run's result document of this profile: only failures it did not have "
                                  "fail the run; each requirement is marked known, new or fixed",
                                  pytest="--scim-baseline", metavar="OLD.json")


@dataclass(frozen=True)
class LoadOptions(Target):
    """Everything `scim-conformance load` takes, on this machine's threads or on Locust workers."""

    users: int = option(200, "--users", "users in the initial cycle, all workers together (default 200)", metavar="N")
    groups: int = option(10, "--groups", "groups in the initial cycle (default 10)", metavar="N")
    rate: float = option(0.0, "--rate", "at most R requests/s, all workers together (default 0: as fast as "
                         "--concurrency allows, as Entra sends to a non-gallery app)", metavar="R")
    concurrency: int = option(4, "--concurrency", "requests in flight (default 4; with --locust-workers, per worker)",
                              metavar="C", locust=False)
    duration: float = option(120.0, "--duration", "stop sending the cycle after S seconds (default 120); removal "
                             "still runs", metavar="S")
    max_requests: int = option(20000, "--max-requests", "stop sending the cycle after N requests (default 20000); "
                               "removal still runs", metavar="N")
    gallery: bool = option(False, "--gallery",
                           "judge as for Entra gallery certification: 25 requests/s is a MUST, not a SHOULD")
    locust_workers: int = option(0, "--locust-workers", "run the cycle on K local Locust workers (needs the 'load' "
                                 "extra)", metavar="K", locust=False)
    # Set by `load --locust-workers` for the Locust master it starts: the run's report stem, and where the master
    # hands what the workers measured back to the command, which finishes the run.
    stem: str | None = option(None, None, "internal: the file name stem of the run's reports", hidden=True)
    handoff: str | None = option(None, None, "internal: where the Locust master writes what the workers measured",
                                 hidden=True)

    def usage_problem(self) -> str | None:
        for name in ("users", "concurrency", "max_requests"):
            if getattr(self, name) < 1:
                return f"{self.flag(name)} must be at least 1"
        if self.groups < 0 or self.rate < 0 or self.locust_workers < 0:
            return (f"{self.flag('groups')}, {self.flag('rate')} and {self.flag('locust_workers')} must not be "
                    "negative")
        if self.duration <= 0:
            return f"{self.flag('duration')} must be positive"
        if "har" in self.reports:
            return f"{self.flag('report')} har: a load run keeps measurements, not each exchange (har is for run)"
        if self.locust_workers and self.oauth_token_url:
            return (f"{self.flag('locust_workers')} takes a static token (${self.scim_token_env}), not "
                    f"{self.flag('oauth_token_url')}")
        return super().usage_problem()


def _field(cls: type, name: str) -> dataclasses.Field[Any]:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f
    raise KeyError(name)


def _fields(cls: type) -> Iterator[dataclasses.Field[Any]]:
    yield from dataclasses.fields(cls)


def _kind(f: dataclasses.Field[Any]) -> str:
    """bool (a switch), list (repeatable), or the scalar type's name."""
    text = str(f.type)
    if text.startswith("bool"):
        return "bool"
    if text.startswith("list"):
        return "list"
    return text.split(" ")[0]


_CONVERT = {"float": float, "int": int, "str": str}


def _arguments(f: dataclasses.Field[Any], spelling: str, repeatable: bool = False) -> tuple[list[str], dict[str, Any]]:
    meta, kind = f.metadata, _kind(f)
    repeatable = repeatable and bool(meta["cli_repeatable"])
    kwargs: dict[str, Any] = {"dest": f.name, "help": meta["help"] + (meta["cli_repeatable"] if repeatable else "")}
    if kind == "bool":
        kwargs.update(action="store_true", default=False)
    elif kind == "list" or repeatable:
        kwargs.update(action="append", default=[])
    else:
        kwargs.update(type=_CONVERT[kind], default=f.default)
    if meta["metavar"] and kind != "bool":
        kwargs["metavar"] = meta["metavar"]
    return [locust_flag(f) if spelling == "locust" else meta[spelling]], kwargs


def add_to_argparse(parser: argparse.ArgumentParser, cls: type, *, repeatable: bool = False) -> None:
    """The fields of `cls` as flags; `repeatable`: a command that runs once per value of a cli_repeatable field."""
    for f in _fields(cls):
        if not f.metadata["cli"]:
            continue
        names, kwargs = _arguments(f, "cli", repeatable)
        if f.metadata["hidden"]:
            kwargs["help"] = argparse.SUPPRESS
        parser.add_argument(*names, **kwargs)


def add_to_pytest(group: Any) -> None:
    """Register the run options with pytest (dest `scim_<name>`, so no other plugin's option is shadowed)."""
    _add_prefixed(group, RunOptions, "pytest")


def add_to_locust(group: Any) -> None:
    """Register the load options with Locust's parser (`locust_flag` spelling, dest `scim_<name>`)."""
    _add_prefixed(group, LoadOptions, "locust")


def _add_prefixed(group: Any, cls: type, spelling: str) -> None:
    """A scalar's default here is None, so that a caller can tell an option given (`--profile entra-id` makes a
    pytest run a conformance run) from one left out; `_from_prefixed` fills in the field's own default."""
    for f in _fields(cls):
        if spelling == "locust" and not f.metadata["locust"]:
            continue
        names, kwargs = _arguments(f, spelling)
        kwargs["dest"] = f"scim_{f.name}"
        if "type" in kwargs:
            kwargs["default"] = None
        if f.metadata["hidden"]:
            kwargs["help"] = argparse.SUPPRESS
        if hasattr(group, "addoption"):  # pytest's option group
            group.addoption(*names, **kwargs)
        else:  # an argparse group (Locust's parser)
            group.add_argument(*names, **kwargs)


def locust_flag(f: dataclasses.Field[Any]) -> str:
    """`--scim-<the CLI's name>` (`--scim-users`, `--scim-url`, `--scim-from-cli` for an internal field)."""
    name = str(f.metadata["cli"] or f.metadata["pytest"] or f"--{f.name.replace('_', '-')}").removeprefix("--")
    return f"--scim-{name.removeprefix('scim-')}"


def given(config: Any, name: str) -> bool:
    return config.getoption(f"scim_{name}") is not None


def _from_prefixed(cls: type[T], get: Any, spelling: str) -> T:
    names = [f.name for f in _fields(cls) if spelling != "locust" or f.metadata["locust"]]
    values = {name: get(f"scim_{name}") for name in names}
    return cls(**{name: value for name, value in values.items() if value is not None})


def from_pytest(config: Any) -> RunOptions:
    return _from_prefixed(RunOptions, config.getoption, "pytest")


def from_locust(parsed: Any, *, workers: int, master: bool) -> LoadOptions:
    """The load options from Locust's parsed options. Those Locust carries itself: the concurrency is `-u` (all
    workers together, `workers` of them), and only the master counts the workers."""
    options = _from_prefixed(LoadOptions, lambda dest: getattr(parsed, dest, None), "locust")
    return dataclasses.replace(options, concurrency=max(1, int(getattr(parsed, "num_users", 0) or 1) // workers),
                               locust_workers=workers if master else 0)


def from_namespace(cls: type[T], args: argparse.Namespace) -> T:
    values = {f.name: getattr(args, f.name) for f in _fields(cls) if hasattr(args, f.name)}
    for f in _fields(cls):
        if f.metadata["cli_repeatable"] and isinstance(values.get(f.name), list):
            # One run takes one value: the first given, or the field's default (the CLI runs each value in turn).
            given = values.pop(f.name)
            if given:
                values[f.name] = given[0]
    return cls(**values)


def pytest_argv(options: RunOptions) -> list[str]:
    """The same options, spelled for the pytest plugin (only those that differ from their default)."""
    return _argv(options, "pytest")


def locust_argv(options: LoadOptions) -> list[str]:
    """The same options, spelled for the Locust entry point (those Locust carries itself left out)."""
    return _argv(options, "locust")


def _argv(options: Any, spelling: str) -> list[str]:
    argv: list[str] = []
    for f in _fields(type(options)):
        if spelling == "locust" and not f.metadata["locust"]:
            continue
        value, kind = getattr(options, f.name), _kind(f)
        flag = locust_flag(f) if spelling == "locust" else f.metadata[spelling]
        if kind == "bool":
            argv += [flag] if value else []
        elif kind == "list":
            for item in value:
                argv += [flag, str(item)]
        elif value is not None and value != f.default:
            argv += [flag, str(value)]
    return argv
