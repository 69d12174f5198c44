"""`scim-conformance load --locust-workers K`: a Locust master and K workers on this machine, headless.

Kept apart from the locustfile on purpose: importing Locust monkey-patches the process for gevent, and the
process that starts the workers may be running the bundled server in threads.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from scim_conformance.cleanup import sweep
from scim_conformance.journal import Journal
from scim_conformance.load.run import LoadSettings, stem_for
from scim_conformance.outcomes import ExitCode

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
TOKEN_ENV = "SCIM_TOKEN"


def run_with_workers(settings: LoadSettings, *, embedded: bool) -> tuple[int, dict[str, Any] | None]:
    """A Locust master and K workers on this machine, headless; the master writes the reports."""
    if settings.token_provider is not None:
        print("scim-conformance load: --locust-workers takes a static token ($SCIM_TOKEN), not OAuth",
              file=sys.stderr)
        return int(ExitCode.USAGE), None
    stem = stem_for(settings.profile)
    port = _free_port()
    users = settings.concurrency * settings.locust_workers
    common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    scim = ["--scim-url", settings.base_url or "", "--scim-profile", str(settings.profile.file),
            "--scim-users", str(settings.users), "--scim-groups", str(settings.groups),
            "--scim-duration", str(settings.duration), "--scim-max-requests", str(settings.max_requests),
            "--scim-seed", str(settings.seed), "--scim-rate", str(settings.rate),
            "--scim-timeout", str(settings.timeout),
            "--scim-report-dir", str(settings.report_dir), "--scim-stem", stem]
    if settings.email_domain:
        scim += ["--scim-email-domain", settings.email_domain]
    if settings.gallery:
        scim.append("--scim-gallery")
    if isinstance(settings.verify, str):
        scim += ["--scim-ca-bundle", settings.verify]
    elif settings.verify is False:
        scim.append("--scim-insecure")
    if embedded:
        scim += ["--scim-embedded", ",".join(settings.defects)]
    env = {**os.environ, TOKEN_ENV: settings.token or ""}
    master = subprocess.Popen([*common, "--master", "--headless", "--only-summary", "--expect-workers",
                               str(settings.locust_workers), "-u", str(users), "-r", str(users),
                               "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), *scim], env=env)
    workers = [subprocess.Popen([*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port), *scim],
                                env=env, stdout=subprocess.DEVNULL) for _ in range(settings.locust_workers)]
    processes = [master, *workers]
    interrupted = False
    try:
        master.wait(timeout=settings.duration + 600)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        interrupted = True
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        # Whatever a worker journalled and the master did not sweep (a worker killed, the master gone).
        client = settings.client(settings.base_url or "")
        for path in sorted(settings.report_dir.glob(f"{stem}.w*.journal.jsonl")):
            sweep(client, Journal(path, settings.base_url or "", settings.prefix))
        client.close()
    result = settings.report_dir / f"{stem}.json"
    if interrupted or not result.exists():
        why = "interrupted" if interrupted else f"the Locust master ended without a result (exit {master.returncode})"
        print(f"scim-conformance load: {why}; what the workers journalled was swept", file=sys.stderr)
        return int(ExitCode.USAGE), None
    document = json.loads(result.read_text(encoding="utf-8"))
    return master.returncode, document


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
