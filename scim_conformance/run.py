"""The run core: everything a run is, built once, for every kind of run and every caller (the pytest plugin and
the CLI for a conformance run, `load` for a load run on threads or on Locust workers).

A run comes in three steps, because pytest needs the first before it collects and the second only once it
starts the session:
  - `Plan` (from the options): the profile, the registry, which requirements apply, the seed and prefix,
    where the reports go, and the empty result document. Building it sends nothing.
  - `start` gives a `Run` (from a plan): the target (the given URL, or the bundled server started here, the one
    place outside `server/` that starts it), the client, the preflight's answer, the journal and the
    identities. Every field is set; nothing is filled in later.
  - `finish`: the sweep of what the run left, the result document and the report files made from it.
"""

from __future__ import annotations

import dataclasses
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pytest

from scim_conformance.client import REDACTED, ScimClient
from scim_conformance.declared import UNKNOWN, Declared, discover
from scim_conformance.identities import IdentityFactory
from scim_conformance.journal import Journal
from scim_conformance.options import REPORT_FORMATS, LoadOptions, OptionError, RunOptions, Target
from scim_conformance.preflight import PreflightError, preflight
from scim_conformance.profile import Profile, load_profile
from scim_conformance.report import har, junit
from scim_conformance.requirements import Registry, load_registry
from scim_conformance.results import Baseline, DocumentError, RunResults

if TYPE_CHECKING:
    from scim_conformance.server import ReferenceServer


def profile_features(profile: Profile) -> set[str]:
    """What a profile makes the IdP do, in the words requirements use for `needs`."""
    features = {"groups"} if profile.groups else set()
    features.add(f"idp:{profile.idp}")  # what only one IdP sends (needs: ["idp:Okta"])
    if profile.dialect.user_updates == "put":
        features.add("put-updates")
    if any(m.path.attribute == "roles" for m in profile.user_mappings):
        features.add("roles")
    matching = {m.lower() for m in profile.user_matching}
    if any(m.startswith("emails") for m in matching):
        features.add("email-matching")
    if "externalid" in matching:
        features.add("externalid-matching")
    return features


def applicable(profile: Profile, registry: Registry) -> set[str]:
    features = profile_features(profile)
    return {
        r.id for r in registry
        if r.capability in profile.capabilities | profile.advisory and r.id not in profile.exclude
        and set(r.needs) <= features
    }


OptionsT = TypeVar("OptionsT", bound=Target)  # RunOptions for a conformance run, LoadOptions for a load run


@dataclass(frozen=True)
class Plan(Generic[OptionsT]):
    """What a run will do, known before any request: enough for collection, a dry run and the reports."""

    options: OptionsT
    profile: Profile
    registry: Registry
    results: RunResults
    seed: int
    prefix: str
    report_dir: Path
    stem: str

    @property
    def applicable(self) -> set[str]:
        return self.results.applicable

    def report_path(self, suffix: str) -> Path:
        return self.report_dir / f"{self.stem}{suffix}"

    def report_file(self, report: str) -> Path | None:
        """Where a report format (`--report`) is written, or None when this run does not write it."""
        return self.report_path(REPORT_FORMATS[report]) if report in self.options.reports else None

    def main_report(self) -> Path | None:
        """The file the terminal points to: the result document, else the page, else the JUnit file."""
        return next((path for path in map(self.report_file, ("json", "html", "junit")) if path), None)


def plan(options: OptionsT) -> Plan[OptionsT]:
    """Raises ProfileError for a broken profile, DocumentError for an unusable baseline (the caller turns
    either into its own usage error)."""
    profile = load_profile(options.profile)
    registry = load_registry()
    if isinstance(options, LoadOptions):
        # A load run judges its own requirements (capability `load`), under the profile as it sees it.
        from scim_conformance.load.result import load_profile_view, load_requirements

        profile = load_profile_view(profile, registry, gallery=options.gallery)
        judged = load_requirements(profile, registry)
        stem = options.stem or f"{profile.name}-load-{time.strftime('%Y%m%d-%H%M%S')}"
    else:
        if isinstance(options, RunOptions) and options.no_advisory:
            # Advisory checks never count towards the verdict: without them they are simply not applicable.
            profile = dataclasses.replace(profile, advisory=frozenset(), advisory_title="")
        judged = applicable(profile, registry)
        stem = f"{profile.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    baseline = None
    if isinstance(options, RunOptions) and options.baseline:
        try:
            baseline = Baseline.read(Path(options.baseline), profile.name)
        except DocumentError as exc:
            raise DocumentError(f"{options.flag('baseline')} {exc}") from None
    results = RunResults(registry, profile, judged, options.strict, baseline)
    return Plan(options=options, profile=profile, registry=registry, results=results, seed=seed,
                prefix=f"scimc{seed:x}"[:13], report_dir=Path(options.report_dir), stem=stem)


@dataclass
class Run(Generic[OptionsT]):
    """A started run: the target is up (or was found unusable at preflight), the client and journal exist."""

    plan: Plan[OptionsT]
    base_url: str
    token: str | None
    client: ScimClient
    journal: Journal
    identities: IdentityFactory
    server: ReferenceServer | None
    preflight_error: str | None
    declared: Declared = UNKNOWN  # what /Schemas and /ResourceTypes declare (see `declare`)
    cleanup_failures: list[str] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        return self.plan.profile

    @property
    def results(self) -> RunResults:
        return self.plan.results

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def new_client(self, **overrides: Any) -> ScimClient:
        """Another client to the same target with the same credentials (a load run's worker takes one each)."""
        return connect(self.plan, self.base_url, self.token, **overrides)

    def redact(self, text: str) -> str:
        """Last line of defence for free text (tracebacks, captured output) that did not pass the client."""
        text = self.client.redact(text) or text
        if self.token and len(self.token) >= 4:
            # The forms a token takes once written into HTML or XML (the client covers raw and URL-encoded).
            for form in {escape(self.token), escape(self.token, quote=False)} - {self.token}:
                text = text.replace(form, REDACTED)
        return text


# Where a pytest session keeps its plan, its started run and its result document (the views read them here).
PLAN_KEY = pytest.StashKey[Plan[RunOptions]]()
RUN_KEY = pytest.StashKey[Run[RunOptions]]()
DOCUMENT_KEY = pytest.StashKey[dict[str, Any]]()


def connect(plan: Plan[Any], base_url: str, token: str | None, **overrides: Any) -> ScimClient:
    """The client of a run: the profile's headers, the options' timeout, TLS and OAuth; `overrides` for the rest
    (a load run's workers keep no transcript and leave 429s to the generator)."""
    options = plan.options
    return ScimClient(base_url, token, headers=plan.profile.dialect.headers, timeout=options.timeout,
                      verify=options.verify, token_provider=options.token_provider(), **overrides)


def start(plan: Plan[OptionsT]) -> Run[OptionsT]:
    """Start the bundled server if no URL was given, build the client and probe the target once.

    Raises OptionError for a usage problem (no token, a bad defect or quirk name, OAuth half-configured). An
    unusable target is not an exception: the run carries `preflight_error` and nothing will be sent.
    """
    options = plan.options
    problem = options.usage_problem()
    if problem:
        raise OptionError(problem)
    token = options.token()
    conformance = options if isinstance(options, RunOptions) else None
    read_only = conformance.read_only if conformance else False
    server: ReferenceServer | None = None
    if options.scim_url is None:
        from scim_conformance.server import ReferenceServer

        token = token or secrets.token_urlsafe(24)
        try:
            server = ReferenceServer(token=token, defects=tuple(options.defect), quirks=tuple(options.quirk),
                                     rate_limit=options.server_rate_limit)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
        server.start()
        base_url = server.base_url
    else:
        if token is None and not options.oauth_token_url:
            raise OptionError(options.missing_token(options.scim_url))
        base_url = options.scim_url
    try:
        # A conformance run is paced by --max-rps against a real target; a load run paces itself (--rate).
        pacing = conformance.max_rps if conformance and server is None else None
        client = connect(plan, base_url, token, max_rps=pacing or None, read_only=read_only)
    except OptionError:
        if server is not None:
            server.stop()
        raise
    plan.results.meta.update({
        "target": base_url, "embedded_server": server is not None, "seed": plan.seed, "prefix": plan.prefix,
        "read_only": read_only, "reference_defects": list(options.defect) if server else [],
    })
    if server is not None and options.quirk:
        plan.results.meta["reference_quirks"] = list(options.quirk)
    preflight_error: str | None = None
    try:
        preflight(client, options.flag)
    except PreflightError as exc:
        preflight_error = str(exc)
        plan.results.meta["preflight"] = preflight_error
    # No journal file for a run that will create nothing: it would only tell `cleanup` there is nothing to do.
    journal = Journal(None if preflight_error else plan.report_path(".journal.jsonl"), base_url, plan.prefix)
    identities = IdentityFactory(plan.profile, plan.prefix, plan.seed, options.email_domain)
    plan.results.meta["mappings"] = identities.mapping_report()  # target <- expression -> value, for the report
    if plan.profile.scope:
        plan.results.meta["scope"] = dict(plan.profile.scope)  # an imported tenant's scoping filters, as data
    run = Run(plan=plan, base_url=base_url, token=token, client=client, journal=journal,
              identities=identities, server=server, preflight_error=preflight_error)
    if preflight_error is None and conformance is not None:
        declare(run)
        # A load run stops its own workers on SIGTERM (load.generator.interrupt_on_sigterm).
        _cleanup_on_sigterm()
    return run


def declare(run: Run[Any]) -> None:
    """Read what the server declares, once, before any check (Microsoft's SCIM Validator: "Discover schema")."""
    run.declared = discover(run.client)
    run.results.meta["declared"] = run.declared.as_dict()


def _cleanup_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C, so pytest tears the fixtures down and deletes what the run created."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def sweep(run: Run[Any]) -> None:
    """Last line of defence: delete anything the journal says this run created and did not remove."""
    from scim_conformance.cleanup import sweep as sweep_journal

    run.cleanup_failures.extend(sweep_journal(run.client, run.journal))


def finish(run: Run[Any], *, interrupted: bool, load: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sweep what is left, note what the run did, write the result document and the report files made from it
    (JUnit; a load run's page too: a conformance run's is pytest-html's); returns the document.

    `load`: what a load run measured (the document's `load` section); its requests are the run's too.
    """
    sweep(run)
    meta = run.results.meta
    meta["requests"] = run.client.run_requests + (load["summary"]["requests"] if load else 0)
    meta["transport_findings"] = list(run.client.findings)
    meta["cleanup_failures"] = list(run.cleanup_failures)
    if run.journal.path is not None:
        meta["journal"] = str(run.journal.path)
    if interrupted:
        meta["interrupted"] = True
    document = run.results.document()
    if load is not None:
        document["load"] = load
    path = run.plan.report_file("json")
    if path is not None:
        run.results.write_json(path, document)
    path = run.plan.report_file("junit")
    if path is not None:
        junit.write(document, path, run.redact)
    path = run.plan.report_file("har")
    if path is not None:
        har.write(path, document, run.redact)
    path = run.plan.report_file("html")
    if path is not None and load is not None:
        from scim_conformance.report import load_page

        path.write_text(run.redact(load_page.page(document)), encoding="utf-8")
    return document
