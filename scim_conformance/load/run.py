"""A load run, through the one run core (`scim_conformance.run`): `plan` and `start` (the bundled server with its
defects, quirks and rate limit, the client, preflight, journal, identities), Entra's cycle on this machine's
threads or on Locust workers (`workers`), then `finish.finish_load`: the load requirements judged from what was
measured, and the run core's `finish` (sweep, result document, JUnit and the load page).

Ctrl-C and SIGTERM stop the workers and still sweep and write the reports (without a verdict).
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, TextIO

from scim_conformance.load.finish import Measured, finish_load, worker_client_options
from scim_conformance.load.generator import Progress, Sender, Traffic, interrupt_on_sigterm, run_phases
from scim_conformance.load.scenario import RACE_WIDTH, EntraCycle
from scim_conformance.options import LoadOptions, OptionError
from scim_conformance.outcomes import document_exit_code
from scim_conformance.profile import ProfileError
from scim_conformance.report import terminal
from scim_conformance.run import Run, plan, start


def run_load(options: LoadOptions, *, progress: TextIO | None = None,
             out: TextIO | None = None) -> tuple[int, dict[str, Any]]:
    """One load run: (exit code, result document). Raises OptionError for a usage problem (nothing started)."""
    try:
        the_plan = plan(options)
    except ProfileError as exc:
        raise OptionError(f"profile error: {exc}") from None
    if options.locust_workers and importlib.util.find_spec("locust") is None:
        raise OptionError(f"{options.flag('locust_workers')} needs Locust: pip install 'scim-conformance[load]'")
    run = start(the_plan)
    try:
        with interrupt_on_sigterm():  # the workers are stopped, and what they journalled is swept
            measured, interrupted = Measured(), False
            if run.preflight_error is None:
                if options.locust_workers:
                    from scim_conformance.load.workers import run_on_workers

                    measured, interrupted = run_on_workers(run)
                else:
                    measured = run_on_threads(run, progress)
                    interrupted = measured.stopped_by == "interrupted"
            document = finish_load(run, measured, interrupted=interrupted)
    finally:
        run.stop()
    terminal.write(out or sys.stdout, document, the_plan.main_report())
    return int(document_exit_code(document)), document


def run_on_threads(run: Run[LoadOptions], progress: TextIO | None) -> Measured:
    options = run.plan.options
    cycle = EntraCycle(run.profile, run.identities, run.journal, users=options.users, groups=options.groups)
    measured = Measured()
    traffic = Traffic(measured.measurements, rate=options.rate, duration=options.duration,
                      max_requests=options.max_requests)
    # The probes fire their requests together on purpose: neither paced nor counted against the cycle's bounds.
    unpaced = Traffic(measured.measurements, rate=0, duration=max(options.duration, 600), max_requests=10**9)
    unpaced.stop = traffic.stop
    clients = [run.new_client(**worker_client_options()) for _ in range(max(options.concurrency, RACE_WIDTH))]
    shown = Progress(traffic, cycle.planned_requests(), options.duration, progress)
    try:
        measured.probes = cycle.probes([Sender(c, unpaced) for c in clients])
        measured.phases = run_phases(cycle.phases(), [Sender(c, traffic) for c in clients[:options.concurrency]],
                                     traffic, shown)
    except KeyboardInterrupt:
        traffic.interrupt()
    finally:
        shown.close()
        for client in clients:
            client.close()
    measured.stopped_by, measured.job_errors = traffic.stopped_by, traffic.job_errors
    return measured
