"""What one run of the self-test's matrices costs: the suite in-process against the bundled server, per profile.

Usage: python bench/suite_run.py [--repeat 3] [--runs 4] [--compare SRC] [--profile P ...] [-- RUN ARGS]

The defect and quirk matrices (tests/test_defect_matrix.py, tests/test_quirk_matrix.py) run the suite a few
hundred times per `make test`, each time as tests/suite_runner.py does: the command line called in the test
process against a reference server in that process. This script does the same in a fresh process per tree and
profile: one warm-up run, then `--runs` runs, and prints the CPU seconds (user + system, the server's threads
included) and the wall seconds per run. Rounds alternate between the trees, and the figure kept is the median of
`--repeat` rounds, so that a busy machine weighs on both alike.

The run arguments default to the defect matrix's (`--report json,junit --no-advisory`); give others after `--`
(e.g. `--` alone for a user's default run). `--compare SRC` measures a second source tree the same way (e.g.
`git archive <commit> | tar -x -C /tmp/before`), with `--compare-args` when its runs took other arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PROFILES = ("entra-id", "entra-id-aadoptscim062020", "example-saas-tenant", "rfc7644", "okta")
MATRIX_ARGS = ("--report", "json,junit", "--no-advisory")

# Runs in the measured tree's own process (its root first on sys.path); prints one JSON line.
PROBE = """
import json, sys, tempfile, time
from pathlib import Path
from scim_conformance.server import ReferenceServer
from tests.suite_runner import run_suite
profile, runs, extra = sys.argv[1], int(sys.argv[2]), tuple(sys.argv[3:])
token = "bench-suite-run-token"
with ReferenceServer(token=token) as server:
    def once():
        run = run_suite(profile, Path(tempfile.mkdtemp(prefix="scim-bench-")), base_url=server.base_url,
                        token=token, extra=extra)
        if run.returncode not in (0, 1):
            sys.exit(f"{profile}: exit {run.returncode}\\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    once()  # imports, caches
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(runs):
        once()
    print(json.dumps({"cpu": (time.process_time() - cpu) / runs, "wall": (time.perf_counter() - wall) / runs}))
"""


def measure(root: Path, profile: str, runs: int, extra: list[str]) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run([sys.executable, "-c", PROBE, profile, str(runs), *extra], capture_output=True, text=True,
                          env=env, cwd=root, check=False)
    if done.returncode:
        raise SystemExit(f"{root}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> int:
    argv = sys.argv[1:]
    extra = list(MATRIX_ARGS)
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per tree and profile (median; default 3)")
    parser.add_argument("--runs", type=int, default=4, help="runs per round after a warm-up (default 4)")
    parser.add_argument("--compare", type=Path, metavar="SRC", help="a second source tree to measure alongside")
    parser.add_argument("--compare-args", metavar="ARGS",
                        help="the compared tree's run arguments, if not the same (e.g. '' for a tree without the "
                             "options the matrix now passes: the matrix's own runs then and now)")
    parser.add_argument("--profile", action="append", help=f"profiles (default: {', '.join(PROFILES)})")
    args = parser.parse_args(argv)
    trees = {"this": HERE} | ({"compare": args.compare.resolve()} if args.compare else {})
    run_args = {"this": extra, "compare": shlex.split(args.compare_args) if args.compare_args is not None else extra}
    profiles = args.profile or list(PROFILES)
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(args.repeat):
        for profile in profiles:
            for label in sorted(trees, reverse=bool(round_ % 2)):  # alternate which tree goes first
                result = measure(trees[label], profile, args.runs, run_args[label])
                figures.setdefault((label, profile), []).append(result)
                print(f"round {round_ + 1}/{args.repeat} {label} {profile}: {result['cpu']:.3f} s CPU, "
                      f"{result['wall']:.3f} s wall per run", file=sys.stderr)
    labels = list(trees)
    print(f"per suite run, median of {args.repeat} rounds of {args.runs} runs; run arguments: "
          + "; ".join(f"{label}: {' '.join(run_args[label]) or '(none)'}" for label in labels))
    header = ["profile", *(f"{label} CPU" for label in labels), *(f"{label} wall" for label in labels)]
    if len(labels) == 2:
        header.append("CPU compare/this")
    rows = []
    totals = dict.fromkeys(labels, 0.0)
    for profile in profiles:
        cpu = {label: statistics.median(r["cpu"] for r in figures[(label, profile)]) for label in labels}
        wall = {label: statistics.median(r["wall"] for r in figures[(label, profile)]) for label in labels}
        for label in labels:
            totals[label] += cpu[label]
        row = [profile, *(f"{cpu[label]:.3f} s" for label in labels), *(f"{wall[label]:.3f} s" for label in labels)]
        if len(labels) == 2:
            row.append(f"{cpu['compare'] / cpu['this']:.2f}")
        rows.append(row)
    total = ["all profiles (one defect)", *(f"{totals[label]:.3f} s" for label in labels), *([""] * len(labels))]
    if len(labels) == 2:
        total.append(f"{totals['compare'] / totals['this']:.2f}")
    rows.append(total)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
