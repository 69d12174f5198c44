"""Benchmark the reference SCIM server: throughput of an Entra-like provisioning cycle, and lookup latency.

Usage: python bench/server.py [--duration SECONDS] [--clients 1 4 16] [--sizes 1000 10000 100000]

1. Throughput: the server runs as its own process (``python -m scim_conformance.server``) and so does each
   client, so that no two share an interpreter lock. Each client repeats Entra's cycle for a user over one
   keep-alive connection (filter lookup that misses, POST, PATCH with a rename and a disable in the default
   dialect, GET by id, DELETE); the script prints requests per second at each concurrency.
2. Lookup latency: the store is loaded directly (no HTTP) with N users, then ``userName eq`` lookups are
   timed over HTTP (median and 95th percentile) and inside the service (no HTTP), at each size; Entra's
   email matching filter (not indexed) is timed over HTTP for comparison.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scim_conformance.server import ReferenceServer
from scim_conformance.server.schemas import CORE_USER, USER_TYPE

TOKEN = "bench-token"


def session() -> requests.Session:
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"})
    return http


def cycle(http: requests.Session, base: str) -> int:
    """One user's life as Entra drives it; returns the number of requests made."""
    name = f"bench-{uuid.uuid4().hex}@example.test"
    lookup = http.get(f"{base}/Users", params={"filter": f'userName eq "{name}"'})
    assert lookup.status_code == 200 and lookup.json()["totalResults"] == 0
    body = {
        "schemas": [CORE_USER],
        "userName": name,
        "externalId": name[:18],
        "active": True,
        "displayName": "Bench User",
        "emails": [{"type": "work", "value": name, "primary": True}],
        "name": {"givenName": "Bench", "familyName": "User"},
    }
    created = http.post(f"{base}/Users", json=body)
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    patched = http.patch(url, json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Renamed"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": f"x{name}"},
        {"op": "Replace", "path": "active", "value": "False"},
    ]})
    assert patched.status_code == 200, patched.text
    assert http.get(url).status_code == 200
    assert http.delete(url).status_code == 204
    return 5


def _client(base: str, duration: float, gate: Any, counts: Any, index: int) -> None:
    http = session()
    cycle(http, base)  # connect and warm up before the clock starts
    gate.wait()
    deadline = time.monotonic() + duration
    done = 0
    while time.monotonic() < deadline:
        done += cycle(http, base)
    counts[index] = done


def throughput(base: str, clients: int, duration: float) -> float:
    """Requests per second with ``clients`` client processes (threads in one client process would measure
    the client's interpreter lock rather than the server)."""
    context = multiprocessing.get_context("fork")
    gate = context.Barrier(clients + 1)
    counts = context.Array("l", clients)
    processes = [context.Process(target=_client, args=(base, duration, gate, counts, i)) for i in range(clients)]
    for process in processes:
        process.start()
    gate.wait()
    began = time.monotonic()
    for process in processes:
        process.join()
    return sum(counts) / max(duration, time.monotonic() - began)


def user_docs(count: int, base: str) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for i in range(count):
        resource_id = str(uuid.uuid4())
        yield {
            "schemas": [CORE_USER],
            "id": resource_id,
            "externalId": f"ext-{i}",
            "userName": f"user{i}@example.test",
            "active": True,
            "displayName": f"User {i}",
            "emails": [{"type": "work", "value": f"user{i}@example.test", "primary": True}],
            "meta": {"resourceType": "User", "created": now, "lastModified": now,
                     "location": f"{base}/Users/{resource_id}", "version": 'W/"1"'},
        }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def lookup_latency(size: int, samples: int) -> tuple[float, float, float, float, float]:
    with ReferenceServer(token=TOKEN) as server:
        assert server.store is not None
        loaded = time.monotonic()
        server.store.insert_many("User", user_docs(size, server.base_url))
        load_seconds = time.monotonic() - loaded
        http = session()
        timings: list[float] = []
        for n in range(samples):
            # Upper-cased on purpose: the lookup must be case-insensitive and still use the index.
            name = f"USER{(n * 7919) % size}@EXAMPLE.TEST"
            began = time.perf_counter()
            found = http.get(f"{server.base_url}/Users", params={"filter": f'userName eq "{name}"'})
            timings.append(time.perf_counter() - began)
            assert found.json()["totalResults"] == 1
        email_timings: list[float] = []
        for n in range(max(10, samples // 10)):
            # Not indexed: answered through the LIKE pre-filter, then evaluated in Python.
            email = f"user{(n * 104729) % size}@example.test"
            began = time.perf_counter()
            found = http.get(f"{server.base_url}/Users",
                             params={"filter": f'emails[type eq "work"].value eq "{email}"'})
            email_timings.append(time.perf_counter() - began)
            assert found.json()["totalResults"] == 1
        service = server.service
        node = service.compile_filter(USER_TYPE, f'userName eq "user{size // 2}@example.test"')
        began = time.perf_counter()
        for _ in range(samples):
            assert len(service.search(USER_TYPE, node)) == 1
        in_process = (time.perf_counter() - began) / samples
        return (statistics.median(timings), percentile(timings, 0.95), in_process, load_seconds,
                statistics.median(email_timings))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per concurrency level (default 5)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--samples", type=int, default=200, help="lookups timed per size (default 200)")
    args = parser.parse_args()

    print("Entra cycle (lookup, POST, PATCH, GET, DELETE), server in its own process, in-memory SQLite:")
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "scim_conformance.server", "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        cycle(session(), base)  # warm up
        for clients in args.clients:
            rate = throughput(base, clients, args.duration)
            print(f"  {clients:>3} concurrent client(s): {rate:8.0f} requests/s", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)

    print("userName eq lookup (case-insensitive, indexed):")
    for size in args.sizes:
        median, p95, in_process, load, email = lookup_latency(size, args.samples)
        print(
            f"  {size:>7} users: HTTP median {median * 1000:6.2f} ms, p95 {p95 * 1000:6.2f} ms;"
            f" in-process {in_process * 1000:6.3f} ms; emails[type eq \"work\"].value eq:"
            f" HTTP median {email * 1000:7.2f} ms (bulk load {load:.1f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
