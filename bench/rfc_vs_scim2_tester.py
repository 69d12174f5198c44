"""Side by side: which defect of the reference server does each tool catch, at what cost?

Usage: python bench/rfc_vs_scim2_tester.py [--defects NAME ...] [--tools rfc7644 scim2-tester] [--json PATH]

For the compliant server and for every defect switch (one server per defect, as the defect matrix does), the
script runs
  * `scim-conformance run --profile rfc7644` (caught: at least one requirement fails or deviates), and
  * scim2-tester through scim2-cli, `scim2 --url ... test` (caught: a line starting with ERROR or CRITICAL,
    or a non-zero exit),
and records for each run whether it caught the defect, the requests the server answered (counted in the
server, so both tools are measured the same way) and the wall time. It ends with the totals and the defects
one tool catches and the other does not. A finding on the compliant server is a false alarm.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scim_conformance.server import DEFECTS, ReferenceServer

TOKEN = "bench-token-5f0e2a"
BIN = Path(sys.executable).parent
COMPLIANT = "(compliant)"
# Slows every answer down to prove timeouts; neither tool judges speed.
SKIPPED = {"slow-responses"}


@dataclass
class Run:
    tool: str
    defect: str
    caught: bool
    requests: int
    seconds: float
    findings: list[str]


class Counter:
    """Counts the requests the server answers, whoever sends them."""

    def __init__(self, server: ReferenceServer) -> None:
        self.count = 0
        self._lock = threading.Lock()
        service = server.service
        handle = service.handle

        def counted(request):  # type: ignore[no-untyped-def]
            with self._lock:
                self.count += 1
            return handle(request)

        service.handle = counted  # type: ignore[method-assign]


def run_rfc7644(base_url: str) -> tuple[bool, list[str]]:
    with tempfile.TemporaryDirectory() as report_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["SCIM_TOKEN"] = TOKEN
        subprocess.run([str(BIN / "scim-conformance"), "run", "--profile", "rfc7644", "--scim-url", base_url,
                        "--report-dir", report_dir, "--max-rps", "0", "--seed", "7644"],
                       capture_output=True, text=True, env=env, cwd=report_dir, timeout=600)
        documents = sorted(Path(report_dir).glob("*.json"))
        if not documents:
            return False, ["no result document"]
        document = json.loads(documents[-1].read_text(encoding="utf-8"))
    failing = sorted(r["id"] for r in document["requirements"] if r["outcome"] in ("fail", "deviation"))
    return bool(failing), failing


def run_scim2_tester(base_url: str) -> tuple[bool, list[str]]:
    env = {**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {TOKEN}"}
    done = subprocess.run([str(BIN / "scim2"), "--url", base_url, "test"], capture_output=True, text=True,
                          env=env, timeout=600)
    lines = done.stdout.splitlines()
    bad = sorted({f"{line.split(' ', 2)[0]} {line.split(' ', 2)[1]}" for line in lines
                  if line.split(" ", 1)[0] in ("ERROR", "CRITICAL") and len(line.split(" ")) > 1})
    if done.returncode != 0 and not bad:
        bad = [f"exit {done.returncode}"]
    return bool(bad), bad


TOOLS = {"rfc7644": run_rfc7644, "scim2-tester": run_scim2_tester}


def measure(tool: str, defect: str) -> Run:
    defects = () if defect == COMPLIANT else (defect,)
    with ReferenceServer(token=TOKEN, defects=defects) as server:
        counter = Counter(server)
        started = time.monotonic()
        caught, findings = TOOLS[tool](server.base_url)
        seconds = time.monotonic() - started
    return Run(tool, defect, caught, counter.count, round(seconds, 2), findings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defects", nargs="*", help="only these defects (default: every switch)")
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=list(TOOLS))
    parser.add_argument("--json", type=Path, help="also write every run as JSON here")
    args = parser.parse_args()
    defects = [COMPLIANT] + (args.defects or sorted(set(DEFECTS) - SKIPPED))
    runs: list[Run] = []
    for defect in defects:
        row = []
        for tool in args.tools:
            run = measure(tool, defect)
            runs.append(run)
            row.append(f"{tool} {'CAUGHT' if run.caught else '-':<6} {run.requests:>4} req {run.seconds:>5.1f} s")
        print(f"{defect:<36} " + " | ".join(row), flush=True)
    by_tool = {tool: {r.defect for r in runs if r.tool == tool and r.caught and r.defect != COMPLIANT}
               for tool in args.tools}
    print()
    for tool in args.tools:
        mine = [r for r in runs if r.tool == tool]
        false_alarm = next((r for r in mine if r.defect == COMPLIANT and r.caught), None)
        requests = sum(r.requests for r in mine) / len(mine)
        seconds = sum(r.seconds for r in mine) / len(mine)
        print(f"{tool}: catches {len(by_tool[tool])} of {len(defects) - 1} defects; {requests:.0f} requests and "
              f"{seconds:.2f} s per run; false alarm on the compliant server: "
              f"{false_alarm.findings if false_alarm else 'none'}")
    if len(args.tools) == 2:
        first, second = args.tools
        print(f"caught by {first} only: {sorted(by_tool[first] - by_tool[second])}")
        print(f"caught by {second} only: {sorted(by_tool[second] - by_tool[first])}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
