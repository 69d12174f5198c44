"""Fixtures the reference server's own tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from scim_conformance.server import ReferenceServer


@pytest.fixture(scope="module")
def srv(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    """One compliant server per test module, guarded by the module's TOKEN."""
    with ReferenceServer(token=getattr(request.module, "TOKEN", "test-token")) as server:
        yield server


@pytest.fixture(scope="module")
def http(srv: ReferenceServer) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {srv.token}", "Content-Type": "application/scim+json"})
    return session


# Modules whose tests mostly wait (on timeouts, signals, third-party servers in subprocesses) run first: under
# pytest-xdist their waits then overlap the other worker's CPU-bound suite runs, instead of leaving one worker
# idle at the end of the run. A stable sort: every module's tests stay together, in their own order.
RUN_FIRST = ("test_safety_hostile.py", "test_load.py", "test_peers.py", "test_safety_tenant.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(RUN_FIRST)))
