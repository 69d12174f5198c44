"""`scim-conformance load --locust-workers K`: a Locust master and K workers on this machine, headless.

The command keeps the run: it started it (`run.start`: the bundled server, preflight, the journal) and it finishes
it (`load.run.finish_load`). The master only gathers what the workers measured and journalled, and hands it back
in a file (`LoadOptions.handoff`). The Locust processes get the run's options from the one table
(`options.locust_argv`), the token in the environment.

Kept apart from the locustfile on purpose: importing Locust monkey-patches the process for gevent, and the
process that starts the workers may be running the bundled server in threads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from scim_conformance import options
from scim_conformance.load.finish import Measured, add_journals, worker_journal
from scim_conformance.options import LoadOptions
from scim_conformance.run import Run

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# The locustfile's user class the workers run (bench/load.py measures the others beside it).
USER_CLASS = "EntraProvisioning"


def locust_options(run: Run[LoadOptions]) -> LoadOptions:
    """The options the Locust processes take: the run's, pointed at its target (the bundled server started here
    is a URL to them), its seed and report stem fixed, the token left to the environment."""
    return dataclasses.replace(
        run.plan.options, scim_url=run.base_url, seed=run.plan.seed, stem=run.plan.stem,
        handoff=str(run.plan.report_path(".handoff.json")), defect=[], quirk=[], server_rate_limit=None,
        scim_token=None, scim_token_file=None, from_cli=True)


def commands(given: LoadOptions, port: int) -> tuple[list[str], list[str]]:
    """The master's and a worker's command lines for these options (`locust_options` of the run)."""
    common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), USER_CLASS, "--loglevel", "WARNING",
              *options.locust_argv(given)]
    users = given.concurrency * given.locust_workers  # Locust spreads them evenly: --concurrency per worker
    master = [*common, "--master", "--headless", "--only-summary", "--expect-workers", str(given.locust_workers),
              "-u", str(users), "-r", str(users), "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    worker = [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    return master, worker


def run_on_workers(run: Run[LoadOptions]) -> tuple[Measured, bool]:
    """Run the cycle on the workers; (what they measured, whether the run was cut short)."""
    given = locust_options(run)
    handoff = Path(given.handoff or "")
    master_argv, worker_argv = commands(given, _free_port())
    env = {**os.environ, given.scim_token_env: run.token or ""}
    master = subprocess.Popen(master_argv, env=env)
    workers = [subprocess.Popen(worker_argv, env=env, stdout=subprocess.DEVNULL) for _ in range(given.locust_workers)]
    interrupted = False
    try:
        master.wait(timeout=given.duration + 600)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        interrupted = True
    finally:
        for process in [master, *workers]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [master, *workers]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    reports: list[dict[str, Any]] = []
    if handoff.is_file():
        handed = json.loads(handoff.read_text(encoding="utf-8"))
        handoff.unlink()
        # A worker gone (the master stopped the run before every report came): what came is judged, cut short.
        reports, interrupted = handed["reports"], interrupted or not handed["complete"]
    # The run's journal gets every worker's records, for the sweep: those reported, and what a worker that did not
    # report (killed, gone, the master gone) left in its file on this machine.
    reported = {r["index"] for r in reports}
    left = [worker_journal(run.plan.stem, run.plan.report_dir, i) for i in range(given.locust_workers)
            if i not in reported]
    add_journals(run.journal, [r["journal"] for r in reports]
                 + [path.read_text(encoding="utf-8") for path in left if path.is_file()])
    if not reports:
        if not interrupted:
            print(f"scim-conformance load: the Locust master ended without a result (exit {master.returncode}); "
                  "what the workers journalled is swept", file=sys.stderr)
        return Measured(stopped_by="interrupted"), True
    measured = Measured.merged(reports)
    if interrupted:
        measured.stopped_by = "interrupted"
    return measured, interrupted


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
