"""A load run's findings: its requirements (capability `load`) judged from what was measured, as check records
of the one result document (`fixtures/result.schema.json`); its views are in `report/` (`load_page`, JUnit,
terminal), as a conformance run's are.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scim_conformance.load.measurements import PROBE_PREFIX, Measurements
from scim_conformance.load.scenario import ProbeResult
from scim_conformance.outcomes import Outcome
from scim_conformance.profile import Profile
from scim_conformance.requirements import Registry
from scim_conformance.results import CheckRecord

CAPABILITY = "load"
THROUGHPUT = "ENTRA-LOAD-THROUGHPUT"
RETRY_AFTER = "ENTRA-LOAD-RETRY-AFTER"
RETRY_SUFFICES = "ENTRA-LOAD-RETRY-SUFFICES"
GALLERY_RATE = 25.0  # requests/s a gallery app sustains per tenant
# Fewer cycle requests than this say nothing about a sustained rate.
MIN_CYCLE_REQUESTS = 30


def load_profile_view(profile: Profile, registry: Registry, *, gallery: bool) -> Profile:
    """The profile as a load run judges it: its verdict says "under load", and the throughput requirement is
    a MUST only for gallery certification (Microsoft's limiter exists only for gallery apps), unless the
    profile itself sets its severity."""
    severity = dict(profile.severity)
    if THROUGHPUT not in severity:
        severity[THROUGHPUT] = "MUST" if gallery else "SHOULD"
    return dataclasses.replace(profile, verdict_label=f"{profile.verdict_label} under load", severity=severity)


def load_requirements(profile: Profile, registry: Registry) -> set[str]:
    return {r.id for r in registry if r.capability == CAPABILITY and r.id not in profile.exclude
            and (profile.groups or "groups" not in r.needs)}


def judge(measurements: Measurements, probes: list[ProbeResult], *, rate: float, concurrency: int,
          stimulus: str, stopped_by: str | None = None) -> list[dict[str, Any]]:
    """One check record per load requirement, from the measurements and the probes."""
    records = [_throughput(measurements, rate, concurrency, stimulus, stopped_by),
               *_throttling(measurements, stimulus)]
    for probe in probes:
        record = CheckRecord(nodeid=f"load::{probe.kind}", name=probe.kind, stimulus=probe.stimulus,
                             requirements=[probe.requirement], outcome=probe.outcome, expected=probe.expected,
                             actual=probe.actual, message=probe.message or probe.actual,
                             transcript=probe.transcript())
        if probe.outcome == Outcome.FAIL:
            record.failed_requirements = [probe.requirement]
        records.append(record.as_dict())
    return records


def _throughput(m: Measurements, rate: float, concurrency: int, stimulus: str,
                stopped_by: str | None) -> dict[str, Any]:
    served, errors, timeouts, cycle = m.served_rate(), m.server_errors(), m.timeouts(), m.count()
    every = sorted(v for kind, values in m.latencies.items() if not kind.startswith(PROBE_PREFIX) for v in values)
    median = every[len(every) // 2] if every else 0.0
    record = CheckRecord(
        nodeid="load::throughput", name="throughput", stimulus=stimulus, requirements=[THROUGHPUT],
        expected=f"at least {GALLERY_RATE:.0f} answered requests/s other than 429, no 5xx and no timeout",
        actual=f"{served:.1f} requests/s over {cycle} requests at concurrency {concurrency} "
               f"(median latency {median:.0f} ms); {errors} x 5xx, {timeouts} timeouts")
    record.message = record.actual
    if rate and rate < GALLERY_RATE:
        record.outcome = Outcome.BLOCKED.value
        record.message = f"blocked: the run offered only {rate:g} requests/s (--rate)"
    elif cycle < MIN_CYCLE_REQUESTS and not (errors or timeouts) and stopped_by not in ("duration", "request cap"):
        # A tiny cycle that ran to its end in a blink shows no sustained rate; one cut by --duration does.
        record.outcome = Outcome.BLOCKED.value
        record.message = f"blocked: {cycle} requests are too few to show a sustained rate (raise --users or --duration)"
    elif served < GALLERY_RATE or errors or timeouts:
        record.outcome, record.failed_requirements = Outcome.FAIL.value, [THROUGHPUT]
    return record.as_dict()


def _throttling(m: Measurements, stimulus: str) -> list[dict[str, Any]]:
    told, untold = m.throttled_with_retry_after, m.throttled_without_retry_after
    header = CheckRecord(nodeid="load::retry-after", name="retry-after", stimulus=stimulus,
                         requirements=[RETRY_AFTER], expected="every 429 carries a Retry-After header",
                         actual=f"{told} x 429 with Retry-After, {untold} without")
    header.message = header.actual
    if not told + untold:
        header.outcome = Outcome.NOT_APPLICABLE.value
        header.message = "not applicable: the server answered no 429 in this run"
    elif untold:
        header.outcome, header.failed_requirements = Outcome.FAIL.value, [RETRY_AFTER]
    waits = m.waits_sufficed + m.waits_refused
    retry = CheckRecord(nodeid="load::retry-suffices", name="retry-suffices", stimulus=stimulus,
                        requirements=[RETRY_SUFFICES],
                        expected="a request sent again after waiting the Retry-After is not refused with 429 again",
                        actual=f"{m.waits_sufficed} of {waits} requests retried after waiting as told got through")
    retry.message = retry.actual
    if not waits:
        retry.outcome = Outcome.NOT_APPLICABLE.value
        retry.message = "not applicable: no 429 with a Retry-After was waited out in this run"
    elif m.waits_refused:
        retry.outcome, retry.failed_requirements = Outcome.FAIL.value, [RETRY_SUFFICES]
    return [header.as_dict(), retry.as_dict()]
