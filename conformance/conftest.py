"""Fixtures the conformance checks share beyond the plugin's own: what the server says it supports."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def service_provider_config(scim_run: Any) -> dict[str, Any]:
    """GET /ServiceProviderConfig once per run; an unreadable answer advertises nothing (RFC 7643 §5)."""
    exchange = scim_run.client.get("/ServiceProviderConfig")
    data = exchange.json
    return data if exchange.status == 200 and isinstance(data, dict) else {}


@pytest.fixture(scope="session")
def rfc_dialect(profile: Any) -> Any:
    """The dialect RFC checks speak: the profile's own when it judges the RFC itself (rfc7644 or a profile
    extending it), else the rfc7644 profile's, so that an IdP profile's RFC findings are never caused by
    that IdP's own wording (Entra's "False" strings, capitalised ops)."""
    from scim_conformance.profile import load_profile

    return profile.dialect if "rfc7644" in profile.chain else load_profile("rfc7644").dialect
