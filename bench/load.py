"""Benchmark the load generator: requests/s it reaches against the bundled server, and its CPU per request.

Usage: python bench/load.py [--duration SECONDS] [--concurrency 1 4 16] [--workers 2] [--users N]

The reference server runs in its own process (in-memory SQLite), so that the generator's figures are its own.
For each total concurrency, `scim-conformance load` replays Entra's cycle unpaced (the race probes included)
once with its threads and once on Locust (a master and --workers workers on this machine, the same total
concurrency shared between them). Printed per run: requests answered per second over the cycle, and the
generator's CPU time per request (user + system, of this process for threads, of the Locust processes
otherwise; Locust's start-up is included, so keep runs long enough to amortise it).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scim_conformance.load.run import run_load
from scim_conformance.options import LoadOptions

TOKEN = "bench-load-token"


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def one(base: str, concurrency: int, workers: int, args: argparse.Namespace, report_dir: Path) -> tuple[float, float,
                                                                                                          int]:
    options = LoadOptions(scim_url=base, users=args.users, groups=max(1, args.users // 100),
                          concurrency=max(1, concurrency // max(workers, 1)), duration=args.duration, seed=1,
                          report_dir=str(report_dir), locust_workers=workers)
    who = resource.RUSAGE_CHILDREN if workers else resource.RUSAGE_SELF
    before = cpu(who)
    with open(os.devnull, "w") as quiet:
        code, document = run_load(options, progress=quiet, out=quiet)
    spent = cpu(who) - before
    assert "load" in document, f"run failed ({code})"
    summary = document["load"]["summary"]
    return summary["served_per_second"], spent / max(summary["requests"], 1), summary["requests"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of cycle per run (default 8)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, default=2, help="Locust workers (default 2; 0 skips Locust)")
    parser.add_argument("--users", type=int, default=5000, help="users per run (more than the duration reaches)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    os.environ["SCIM_TOKEN"] = TOKEN  # the token of a load run (and of its Locust workers) is in the environment
    server = subprocess.Popen([sys.executable, "-m", "scim_conformance.server", "--port", "0", "--token", TOKEN],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    print(f"Entra cycle, unpaced, {args.duration:g} s per run, reference server in its own process:")
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as scratch:
            for concurrency in args.concurrency:
                for workers in ([0, args.workers] if args.workers else [0]):
                    started = time.monotonic()
                    rate, per_request, requests = one(base, concurrency, workers, args, Path(scratch))
                    how = f"Locust, {workers} workers" if workers else "threads"
                    print(f"  concurrency {concurrency:>3}, {how:<17}: {rate:7.1f} requests/s, "
                          f"{per_request * 1000:5.2f} ms generator CPU per request ({requests} requests, "
                          f"{time.monotonic() - started:.0f} s wall)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
