"""Benchmark the load generator: requests/s it reaches against the bundled server, and its CPU per request.

Usage: python bench/load.py [--duration SECONDS] [--concurrency 1 4 16] [--workers 2] [--users N] [--rounds R]

The reference server runs in its own process (in-memory SQLite), so that the generator's figures are its own.
For each total concurrency, `scim-conformance load` replays Entra's cycle unpaced (the race probes included)
with its threads, and on Locust (a master and --workers workers on this machine, the same total concurrency
shared between them) with each user class side by side: `EntraProvisioning` (FastHttpUser, what `load`
runs) and `RequestsProvisioning` (the user class before it: the run's client over requests,
bench/locust_requests.py). Printed per run: requests answered per second over the cycle, and the CPU per
request: for threads, of this process over the whole run; for Locust, of each worker over its share of the
cycle (its start-up left out), and of all Locust processes together (start-ups included). Rounds are
interleaved; the medians are printed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scim_conformance.load import workers as locust_workers
from scim_conformance.load.run import run_load
from scim_conformance.options import LoadOptions

TOKEN = "bench-load-token"


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# The ways of sending compared: (label, Locust user class or None for threads, its locustfile).
VARIANTS = [("threads", None, None),
            ("Locust FastHttpUser", "EntraProvisioning", locust_workers.LOCUSTFILE),
            ("Locust requests User", "RequestsProvisioning", Path(__file__).with_name("locust_requests.py"))]


def one(base: str, concurrency: int, variant: tuple[str, str | None, Path | None], args: argparse.Namespace,
        report_dir: Path) -> tuple[float, float, float | None]:
    """(answered requests/s, CPU ms per request of the whole generator, CPU ms per request per worker)."""
    _label, user_class, locustfile = variant
    workers = args.workers if user_class else 0
    if user_class and locustfile:
        locust_workers.USER_CLASS, locust_workers.LOCUSTFILE = user_class, locustfile
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
    per_worker = [w["cpu_s"] / w["requests"] * 1000 for w in document["load"].get("workers", []) if w["requests"]]
    return (summary["served_per_second"], spent / max(summary["requests"], 1) * 1000,
            statistics.mean(per_worker) if per_worker else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of cycle per run (default 8)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, default=2, help="Locust workers (default 2; 0 skips Locust)")
    parser.add_argument("--users", type=int, default=5000, help="users per run (more than the duration reaches)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians printed (default 1)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    os.environ["SCIM_TOKEN"] = TOKEN  # the token of a load run (and of its Locust workers) is in the environment
    server = subprocess.Popen([sys.executable, "-m", "scim_conformance.server", "--port", "0", "--token", TOKEN],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    variants = VARIANTS if args.workers else VARIANTS[:1]
    print(f"Entra cycle, unpaced, {args.duration:g} s per run, reference server in its own process:")
    results: dict[tuple[int, str], list[tuple[float, float, float | None]]] = {}
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as scratch:
            for _round in range(args.rounds):
                for concurrency in args.concurrency:
                    for variant in variants:
                        started = time.monotonic()
                        figures = one(base, concurrency, variant, args, Path(scratch))
                        results.setdefault((concurrency, variant[0]), []).append(figures)
                        rate, whole, worker = figures
                        print(f"  concurrency {concurrency:>3}, {variant[0]:<21}: {rate:7.1f} requests/s, CPU per "
                              f"request {whole:5.2f} ms" + (f" ({worker:.2f} ms per worker)" if worker else "")
                              + f", {time.monotonic() - started:.0f} s wall", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print("\nmedians | concurrency | way | requests/s | CPU ms/request, per worker | all processes")
    for (concurrency, label), runs in results.items():
        per_worker = [w for _r, _a, w in runs if w is not None]
        print(f"| {concurrency} | {label} | {statistics.median(r for r, _a, _w in runs):.0f} | "
              f"{f'{statistics.median(per_worker):.2f}' if per_worker else '-'} | "
              f"{statistics.median(a for _r, a, _w in runs):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
