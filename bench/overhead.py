"""What the suite costs beyond the traffic it sends, side by side in one run.

Usage: python bench/overhead.py [--repeat 5] [--compare SRC] [--profile entra-id]

Against the bundled reference server started with `scim-conformance serve` (its own process), the script
times, `--repeat` times each and interleaved so that a busy machine weighs on every figure alike:
  - a full run of each Entra profile (`--max-rps 0`), wall clock from the command to its exit;
  - a bare `requests` replay of the first profile's recorded transcript (same methods, URLs, headers and
    bodies, in the same order, ids of created resources mapped to the replay's own), on one session;
  - start-up: from starting the command to the first connection reaching the target (a socket of this
    script that answers nothing; the run is killed there, before it could create anything).
Every process runs with bytecode caching on, as a user's Python does (PYTHONDONTWRITEBYTECODE is dropped);
the first round warms the caches and is not counted.
Beside the overhead it prints its floor: start-up plus replay, over the replay (what a run would cost if its
checks cost nothing beyond their requests). From the last full run's result document it also prints the
requests per requirement, the redundant requests (a GET identical to one before it with no write in between;
within one check, and across checks, which share nothing by design) and the cost of validating one response
(`schemas.validate_response`, in a process of the tree measured).

`--compare SRC` measures a second source tree the same way (e.g. `git archive main | tar -x -C /tmp/main`),
and prints both and their ratio: this is how bench/README.md's before/after figures are made. Both trees
run in this script's Python environment, each ahead of the installed package on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parents[1]
TOKEN = "bench-overhead-token"
ENTRA_PROFILES = ("entra-id", "entra-id-aadoptscim062020")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class Tree:
    """One source tree of the project, run through this script's interpreter."""

    def __init__(self, label: str, root: Path) -> None:
        self.label, self.root = label, root.resolve()

    def env(self, **extra: str) -> dict[str, str]:
        # Every process of a tree also starts in its root or in a directory of its own: `python -m` and `-c`
        # put the working directory first on sys.path, which must not be this script's checkout.
        # PYTHONDONTWRITEBYTECODE is dropped: a user's Python caches compiled modules (and pytest the
        # rewritten checks), and timing every run's recompilation would measure this machine's setting.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PYTEST_") and k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = os.pathsep.join([str(self.root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "scim_conformance.cli", *args]


@contextmanager
def served(tree: Tree) -> Iterator[str]:
    """`scim-conformance serve` on a free port, in a process of its own; yields its base URL."""
    process = subprocess.Popen(tree.command("serve", "--port", "0", "--token", TOKEN), env=tree.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tree.root)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def full_run(tree: Tree, profile: str, base_url: str, report_dir: Path) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds and CPU seconds of one `scim-conformance run`, and its result document."""
    report_dir.mkdir(parents=True)
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(tree.command("run", "--profile", profile, "--scim-url", base_url, "--max-rps", "0",
                                       "--report-dir", str(report_dir), "--seed", "1"),
                          env=tree.env(SCIM_TOKEN=TOKEN), capture_output=True, text=True, cwd=report_dir)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{tree.label}: {profile} run failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    document = json.loads(next(report_dir.glob("*.json")).read_text(encoding="utf-8"))
    return wall, cpu, document


def start_up(tree: Tree, report_dir: Path) -> tuple[float, float]:
    """Wall seconds from starting the command to its first connection to the target, and its CPU seconds."""
    report_dir.mkdir(parents=True)
    cpu = _children_cpu()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        listener.settimeout(60)
        started = time.perf_counter()
        process = subprocess.Popen(tree.command("run", "--profile", "entra-id", "--scim-url",
                                                f"http://127.0.0.1:{port}/scim/v2", "--report-dir", str(report_dir)),
                                   env=tree.env(SCIM_TOKEN=TOKEN), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=report_dir)
        try:
            connection, _ = listener.accept()
            elapsed = time.perf_counter() - started
            connection.close()
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    return elapsed, _children_cpu() - cpu


# --- the bare replay -------------------------------------------------------------------------------------------
def exchanges(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every recorded exchange of the run, in the order the checks ran."""
    return [x for check in document["checks"] for x in check.get("transcript") or []]


def _ids(body: str | None) -> list[str]:
    try:
        data = json.loads(body or "")
    except ValueError:
        return []
    return [data["id"]] if isinstance(data, dict) and isinstance(data.get("id"), str) else []


def replay(document: dict[str, Any]) -> tuple[float, float]:
    """Wall and CPU seconds to send the run's requests again with nothing but a requests session."""
    plan = exchanges(document)
    session = requests.Session()
    renamed: dict[str, str] = {}
    cpu = time.process_time()
    started = time.perf_counter()
    for x in plan:
        request = x["request"]
        url, body = request["url"], request.get("body")
        for old, new in renamed.items():
            url = url.replace(old, new)
            body = body.replace(old, new) if body else body
        headers = {k: v for k, v in request["headers"].items() if k != "Authorization"}
        if "Authorization" in request["headers"]:
            headers["Authorization"] = f"Bearer {TOKEN}"
        response = session.request(request["method"], url, headers=headers,
                                   data=body.encode("utf-8") if body else None, allow_redirects=False)
        recorded = x.get("response") or {}
        for old, new in zip(_ids(recorded.get("body")), _ids(response.text), strict=False):
            if old != new:
                renamed[old] = new
    return time.perf_counter() - started, time.process_time() - cpu


# --- what the transcript says ----------------------------------------------------------------------------------
def redundant_gets(document: dict[str, Any]) -> tuple[int, int, list[str]]:
    """GETs identical to an earlier one with no write in between: (within a check, across checks, examples)."""
    within = across = 0
    examples: list[str] = []
    seen: dict[str, str] = {}  # URL -> the check that last sent it, since the last write
    for check in document["checks"]:
        for x in check.get("transcript") or []:
            request = x["request"]
            if request["method"] in WRITES:
                seen.clear()
                continue
            if request["method"] != "GET":
                continue
            key = request["url"] + json.dumps(request["headers"], sort_keys=True)
            if key in seen:
                if seen[key] == check["nodeid"]:
                    within += 1
                    if len(examples) < 8:
                        path = request["url"].split("/scim/v2")[-1]
                        examples.append(f"{check['nodeid'].split('::')[-1]}: GET {path}")
                else:
                    across += 1
            seen[key] = check["nodeid"]
    return within, across, examples


VALIDATION_PROBE = textwrap.dedent("""
    import json, statistics, sys, time
    from scim_conformance import schemas
    cases = json.load(sys.stdin)
    def once():
        started = time.perf_counter()
        for method, path, status, body, partial in cases:
            schemas.validate_response(method, path, status, body, partial=partial)
        return time.perf_counter() - started
    once()  # compiles the validators, as the first responses of a run do
    print(json.dumps(statistics.median(once() for _ in range(5)) / max(len(cases), 1)))
""")


def validation_cost(tree: Tree, document: dict[str, Any]) -> float:
    """Median seconds to validate one response of the run, in a process of the tree measured."""
    cases = []
    for x in exchanges(document):
        response = x.get("response")
        if not response or not response.get("body"):
            continue
        try:
            body = json.loads(response["body"])
        except ValueError:
            body = response["body"]
        url = x["request"]["url"]
        path = url.split("/scim/v2", 1)[-1]
        partial = "attributes=" in url.lower()  # attributes= and excludedAttributes= alike
        cases.append((x["request"]["method"], path, response["status"], body, partial))
    done = subprocess.run([sys.executable, "-c", VALIDATION_PROBE], input=json.dumps(cases), env=tree.env(),
                          capture_output=True, text=True, check=True, cwd=tree.root)
    return float(done.stdout)


# --- the run ---------------------------------------------------------------------------------------------------
def measure(trees: list[Tree], repeat: int, work: Path) -> dict[str, dict[str, Any]]:
    series = ("start", "start_cpu", "replay", "replay_cpu", "both", "cpu", *ENTRA_PROFILES)
    figures: dict[str, dict[str, Any]] = {t.label: {name: [] for name in series} for t in trees}
    documents: dict[str, dict[str, Any]] = {}
    for round_ in range(-1, repeat):  # round -1 warms the bytecode caches and the disk; it is not counted
        for tree in trees:
            # Each tree is measured against a server of its own code, so that both sides of a ratio agree.
            with served(tree) as base_url:
                row = figures[tree.label]
                wall, cpu = start_up(tree, work / f"{tree.label}-{round_}-start")
                row["start"].append(wall)
                row["start_cpu"].append(cpu)
                both = 0.0
                for profile in ENTRA_PROFILES:
                    wall, cpu, document = full_run(tree, profile, base_url,
                                                   work / f"{tree.label}-{round_}-{profile}")
                    row[profile].append(wall)
                    if profile == ENTRA_PROFILES[0]:
                        row["cpu"].append(cpu)
                    both += wall
                    documents.setdefault(f"{tree.label}:{profile}", document)
                    documents[f"{tree.label}:{profile}"] = document
                row["both"].append(both)
                wall, cpu = replay(documents[f"{tree.label}:{ENTRA_PROFILES[0]}"])
                row["replay"].append(wall)
                row["replay_cpu"].append(cpu)
            if round_ < 0:
                for values in row.values():
                    values.pop()
                continue
            print(f"round {round_ + 1}/{repeat} {tree.label}: {ENTRA_PROFILES[0]} {row[ENTRA_PROFILES[0]][-1]:.2f} s, "
                  f"replay {row['replay'][-1]:.2f} s, start-up {row['start'][-1]:.2f} s", file=sys.stderr)
    for tree in trees:
        document = documents[f"{tree.label}:{ENTRA_PROFILES[0]}"]
        row = figures[tree.label]
        row["validation"] = validation_cost(tree, document)
        row["document"] = document
    return figures


def report(figures: dict[str, dict[str, Any]], repeat: int) -> None:
    labels = list(figures)
    median = {label: {k: statistics.median(v) for k, v in row.items() if isinstance(v, list)}
              for label, row in figures.items()}
    lines: list[tuple[str, list[str]]] = []

    def add(name: str, values: list[float], unit: str, fmt: str = "{:.2f}") -> None:
        lines.append((name, [fmt.format(v) + unit for v in values]))

    first = ENTRA_PROFILES[0]
    add(f"{first} run, wall (median of {repeat})", [median[lb][first] for lb in labels], " s")
    add(f"bare requests replay of the same {first} requests", [median[lb]["replay"] for lb in labels], " s")
    add("overhead: run / replay", [median[lb][first] / median[lb]["replay"] for lb in labels], "x")
    # A run whose checks cost nothing beyond their requests still starts a process first: its floor.
    add("floor: (start-up + replay) / replay", [(median[lb]["start"] + median[lb]["replay"]) / median[lb]["replay"]
                                                for lb in labels], "x")
    add(f"{first} run, CPU of the run's process", [median[lb]["cpu"] for lb in labels], " s")
    add("replay, CPU of the replaying process", [median[lb]["replay_cpu"] for lb in labels], " s")
    add("both Entra profiles, wall", [median[lb]["both"] for lb in labels], " s")
    add("start-up: command to first request", [median[lb]["start"] for lb in labels], " s")
    add("start-up, CPU", [median[lb]["start_cpu"] for lb in labels], " s")
    add("validation per response", [figures[lb]["validation"] * 1e6 for lb in labels], " us", "{:.0f}")
    for label in labels:
        document = figures[label]["document"]
        judged = [r for r in document["requirements"] if r["outcome"] not in ("not-applicable", "disabled")]
        sent = document["run"]["requests"]
        within, across, examples = redundant_gets(document)
        figures[label]["facts"] = (sent, len(judged), within, across, examples)
    lines.append((f"requests sent ({first})", [str(figures[lb]["facts"][0]) for lb in labels]))
    lines.append(("requests per judged requirement",
                  [f"{figures[lb]['facts'][0] / max(figures[lb]['facts'][1], 1):.1f}" for lb in labels]))
    lines.append(("redundant GETs within a check", [str(figures[lb]["facts"][2]) for lb in labels]))
    lines.append(("identical GETs across checks (by design)", [str(figures[lb]["facts"][3]) for lb in labels]))
    header = ["", *labels] + (["ratio"] if len(labels) == 2 else [])
    rows = []
    for name, values in lines:
        ratio = []
        if len(labels) == 2:
            try:
                a, b = (float(v.rstrip(" sux")) for v in values)
                ratio = [f"{a / b:.2f}" if b else "-"]
            except ValueError:
                ratio = [""]
        rows.append([name, *values, *ratio])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = zip(row, widths, strict=True)
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(cells)))
    for label in labels:
        for example in figures[label]["facts"][4]:
            print(f"  redundant ({label}): {example}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each kind per tree (medians; default 5)")
    parser.add_argument("--compare", type=Path, metavar="SRC", help="a second source tree, e.g. main's, to measure")
    args = parser.parse_args()
    trees = [Tree("this", HERE)]
    if args.compare:
        trees.insert(0, Tree("compare", args.compare))
    with tempfile.TemporaryDirectory(prefix="scim-bench-") as work:
        report(measure(trees, args.repeat, Path(work)), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
