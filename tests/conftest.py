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
