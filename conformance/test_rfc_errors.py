"""RFC 7644 §2 authentication, §3.12 errors, §3.8 media types and §3.11 /Me."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_USER

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


@requirement("RFC-AUTH-401")
def test_refusal_names_the_scheme(scim, identities):
    """A client sends no token, then a token the server never issued, and learns from the refusal how to
    authenticate."""
    rid = "RFC-AUTH-401"
    for token in (None, f"not-a-valid-token-{identities.unknown_id()}"):
        exchange = scim.get("/Users", params={"count": 1, "attributes": "id"}, token=token, partial=True)
        if exchange.status is not None and 200 <= exchange.status < 300:
            # Serving the request at all is RFC-AUTH-REQUIRED's finding; there is no refusal here to judge.
            expect.blocked(f"the request {'without a token' if token is None else 'with an unknown token'} "
                           f"was served ({expect.describe(exchange)})")
        expect.status(exchange, rid, 401)
        if not (exchange.header("WWW-Authenticate") or "").strip():
            expect.fail(rid, "a WWW-Authenticate header naming the authentication scheme", "none", exchange)


@requirement("RFC-INVALID-SYNTAX")
def test_malformed_json(scim):
    """A client's create is cut off in the middle, so its body is not JSON at all."""
    rid = "RFC-INVALID-SYNTAX"
    exchange = scim.request("POST", "/Users", data=f'{{"schemas": ["{CORE_USER}"], "userName": ',
                            headers={"Content-Type": SCIM_JSON})
    expect.status(exchange, rid, 400)
    scim_type = exchange.json.get("scimType") if isinstance(exchange.json, dict) else None
    if scim_type is not None:  # scimType is OPTIONAL (§3.12); when given, it is this one
        expect.equal(rid, "scimType", "invalidSyntax", scim_type, exchange)
