"""RFC 7644 §3.14 resource versions (ETags), when /ServiceProviderConfig advertises etag support."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute
from scim_conformance.resources import plain_body
from scim_conformance.steps import advertised, text_attribute
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement


@pytest.fixture(autouse=True)
def _etag_advertised(service_provider_config):
    advertised(service_provider_config, "etag")


@requirement("RFC-ETAG-HEADER")
def test_etag_header(scim, users, identities):
    """A client reads a user and keeps its version from the ETag header."""
    rid = "RFC-ETAG-HEADER"
    user = users.create(plain_body(identities.user_body()))
    exchange = scim.get(f"/Users/{user['id']}")
    data = expect.body(expect.status(exchange, rid, 200), rid)
    etag = exchange.header("ETag")
    if not etag:
        expect.fail(rid, "an ETag header", "none", exchange)
    version = (data.get("meta") or {}).get("version")
    if version is not None and version != etag:  # meta.version is a SHOULD; when given it is the same tag
        expect.fail(rid, f"meta.version equal to the ETag {etag}", f"meta.version {version!r}", exchange)


@requirement("RFC-ETAG-PRECONDITIONS")
def test_etag_preconditions(scim, users, identities, rfc_dialect, declared):
    """A client asks for a user it holds the current version of, then changes it under a stale version."""
    rid = "RFC-ETAG-PRECONDITIONS"
    body = plain_body(identities.user_body())
    user = users.create(body)
    first = scim.get(f"/Users/{user['id']}")
    etag = first.header("ETag")
    if first.status != 200 or not etag:
        expect.blocked(f"the user's read gave no ETag ({expect.describe(first)})")
    expect.status(scim.get(f"/Users/{user['id']}", headers={"If-None-Match": etag}), rid, 304)
    stale = 'W/"stale-version-0"'
    text = text_attribute(declared)
    change = rfc_dialect.patch(rfc_dialect.operation("replace", text, "Stale Change"))
    expect.status(scim.patch(f"/Users/{user['id']}", change, headers={"If-Match": stale}), rid, 412)
    stored = reread(scim, "/Users", user["id"], rid)
    expect.equal(rid, f"{text} after the refused change", get_attribute(first.json, text), get_attribute(stored, text))
