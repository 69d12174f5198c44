"""RFC 7644 §3.8 media types and §3.11 /Me."""

from __future__ import annotations

import pytest

from scim_conformance import expect

requirement = pytest.mark.requirement
SCIM_JSON = "application/scim+json"


@requirement("RFC-MEDIA-TYPE")
def test_scim_media_type(scim, identities):
    """A client that accepts application/scim+json lists users and reads one that does not exist."""
    for exchange in (scim.get("/Users", params={"count": 1, "attributes": "id"}, partial=True),
                     scim.get(f"/Users/{identities.unknown_id()}")):
        media = exchange.content_type.split(";")[0].strip().lower()
        if exchange.response_body and media != SCIM_JSON:
            expect.fail("RFC-MEDIA-TYPE", f"Content-Type {SCIM_JSON}", f"{exchange.content_type or 'none'!r}",
                        exchange)


@requirement("RFC-ACCEPT-JSON")
def test_application_json_accepted(users, identities):
    """A generic HTTP client creates a user sending and accepting plain application/json."""
    exchange = users.post(users.in_form("minimal", identities.user_body()),
                          headers={"Content-Type": "application/json", "Accept": "application/json"})
    expect.status(exchange, "RFC-ACCEPT-JSON", 201, 200)  # the status itself is judged by RFC-CREATE-201


@requirement("RFC-ME")
def test_me(scim):
    """A client asks /Me for the resource its token stands for."""
    exchange = scim.get("/Me")
    if exchange.status == 501:
        return
    data = expect.body(expect.status(exchange, "RFC-ME", 200, 501), "RFC-ME")
    if not data.get("id"):
        expect.fail("RFC-ME", "501, or the subject's resource with its id", expect.describe(exchange), exchange)
