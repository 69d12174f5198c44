"""How a load run ends, on threads or on Locust: what the cycle came to (`Measured`, merged from the workers'
reports under Locust), the workers' journals gathered into the run's, and `finish_load`: the load requirements
judged from the measurements, then the run core's `finish` (sweep, result document, JUnit, the load page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scim_conformance.journal import Journal
from scim_conformance.load.measurements import Measurements
from scim_conformance.load.result import judge
from scim_conformance.load.scenario import ProbeResult
from scim_conformance.options import LoadOptions
from scim_conformance.run import Run, finish


@dataclass
class Measured:
    """What the cycle came to, on threads or merged from Locust workers: what `finish_load` judges."""

    measurements: Measurements = field(default_factory=Measurements)
    probes: list[ProbeResult] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    stopped_by: str | None = None
    job_errors: list[str] = field(default_factory=list)

    @classmethod
    def merged(cls, reports: list[dict[str, Any]]) -> Measured:
        """One run's measurements from the Locust workers' reports (`locustfile.WorkerShare.report`)."""
        reports = sorted(reports, key=lambda r: r["index"])
        measured = cls(Measurements(started=min(r["measurements"]["started"] for r in reports)))
        for report in reports:
            measured.measurements.merge(report["measurements"])
        measured.probes = [ProbeResult.from_data(p) for r in reports for p in r["probes"]]
        measured.phases = reports[0]["phases"]
        measured.stopped_by = next((r["stopped_by"] for r in reports if r["stopped_by"]), None)
        measured.job_errors = [e for r in reports for e in r["job_errors"]]
        return measured


def worker_client_options() -> dict[str, Any]:
    """How a load worker's client differs from the run's: no transcript, and a 429 is the generator's to answer
    (the whole run waits, as Entra's job does)."""
    return {"record": False, "retry_429": False}


def add_journals(journal: Journal, texts: list[str]) -> None:
    """The workers' journal records into the run's journal (after its one header), as `cleanup --journal` and the
    run's sweep read it."""
    if journal.path is None:
        return
    with journal.path.open("a", encoding="utf-8") as handle:
        for text in texts:
            for line in text.splitlines():
                if line.strip() and '"event": "run"' not in line:
                    handle.write(line + "\n")


def worker_journal(run_stem: str, report_dir: Path, index: int) -> Path:
    return report_dir / f"{run_stem}.w{index}.journal.jsonl"


def finish_load(run: Run[LoadOptions], measured: Measured, *, interrupted: bool) -> dict[str, Any]:
    """Judge the load requirements from what was measured, then the run core's finish; the result document."""
    options = run.plan.options
    stimulus = (f"Entra's initial cycle for {options.users} users and {options.groups} groups, then changes and "
                f"removal, at concurrency {options.concurrency}" + (f", up to {options.rate:g} req/s"
                                                                   if options.rate else ""))
    if run.preflight_error is None:
        for record in judge(measured.measurements, measured.probes, rate=options.rate,
                            concurrency=options.concurrency, stimulus=stimulus, stopped_by=measured.stopped_by):
            record["outcome"] = run.results.check_outcome(record["outcome"], record["failed_requirements"])
            run.results.add(record)
    load = {"settings": settings(options), "phases": measured.phases, "stopped_by": measured.stopped_by,
            "job_errors": measured.job_errors[:20], "summary": measured.measurements.summary()}
    return finish(run, interrupted=interrupted, load=load)


def settings(options: LoadOptions) -> dict[str, Any]:
    """The load options as the document's `load.settings` shows them."""
    return {"users": options.users, "groups": options.groups, "rate": options.rate,
            "concurrency": options.concurrency, "duration_s": options.duration, "max_requests": options.max_requests,
            "gallery": options.gallery, "locust_workers": options.locust_workers,
            "server_rate_limit": options.server_rate_limit}
