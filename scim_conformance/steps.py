"""Steps the checks share, worded as the IdP's own requests: look a user up, read it back, patch it."""

from __future__ import annotations

from typing import Any

from scim_conformance import expect
from scim_conformance.client import Exchange, ScimClient
from scim_conformance.profile import Dialect


def eq_filter(attribute: str, value: str) -> str:
    return f'{attribute} eq "{value}"'


def lookup(scim: ScimClient, endpoint: str, attribute: str, value: str, **params: str) -> Exchange:
    """`GET /Users?filter=attr eq "value"` with the filter percent-encoded (spaces as %20)."""
    return scim.get(endpoint, params={**params, "filter": eq_filter(attribute, value)}, partial=bool(params))


def read(scim: ScimClient, endpoint: str, resource_id: str, requirement: str) -> dict[str, Any]:
    """Re-read a resource after a change: a 2xx to the change alone proves nothing."""
    exchange = scim.get(f"{endpoint}/{resource_id}")
    expect.status(exchange, requirement, 200)
    return expect.body(exchange, requirement)


def patch(scim: ScimClient, endpoint: str, resource_id: str, requirement: str, dialect: Dialect,
          *operations: dict[str, Any]) -> Exchange:
    """Send a PatchOp and accept either answer RFC 7644 §3.5.2 allows (200 with the resource, or 204)."""
    exchange = scim.patch(f"{endpoint}/{resource_id}", dialect.patch(*operations))
    return expect.status(exchange, requirement, 200, 204)


def advertised(service_provider_config: dict[str, Any], feature: str) -> None:
    """Not applicable unless /ServiceProviderConfig says `feature` is supported (RFC 7643 §5: filter, patch, ...)."""
    section = service_provider_config.get(feature)
    if not (isinstance(section, dict) and section.get("supported") is True):
        expect.not_applicable(f"/ServiceProviderConfig does not advertise {feature}")
