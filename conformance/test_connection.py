"""Connection and authentication: what Entra's Test Connection and every later request rely on."""

from __future__ import annotations

import uuid

import pytest

from scim_conformance import expect
from scim_conformance.steps import lookup

requirement = pytest.mark.requirement


@requirement("ENTRA-CONN-PROBE-EMPTY")
def test_test_connection_probe(scim):
    """Entra's Test Connection asks for a user that cannot exist: userName eq "<random guid>"."""
    exchange = lookup(scim, "/Users", "userName", str(uuid.uuid4()))
    expect.list_response(exchange, "ENTRA-CONN-PROBE-EMPTY", total_results=0)


@requirement("ENTRA-CONN-PROBE-ENCODING")
@pytest.mark.parametrize("encoding", ["plus-raw-quotes", "percent-20-22"])
def test_probe_encodings(scim, encoding):
    """The same probe, encoded as Entra and its validator put it on the wire."""
    guid = str(uuid.uuid4())
    query = f'filter=userName+eq+"{guid}"' if encoding == "plus-raw-quotes" \
        else f"filter=userName%20eq%20%22{guid}%22"
    exchange = scim.get("/Users", query=query)
    expect.list_response(exchange, "ENTRA-CONN-PROBE-ENCODING", total_results=0)


@requirement("ENTRA-CONN-GROUP-PROBE")
def test_group_probe(scim, profile):
    """Entra also looks up a random group, asking the server to leave members out."""
    if not profile.groups:
        expect.not_applicable(f"profile {profile.name} does not provision groups")
    exchange = lookup(scim, "/Groups", "displayName", str(uuid.uuid4()), excludedAttributes="members")
    expect.list_response(exchange, "ENTRA-CONN-GROUP-PROBE", total_results=0)


@requirement("ENTRA-AUTH-REQUIRED")
def test_no_token_refused(scim):
    """A request with no Authorization header at all is refused."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'}, token=None)
    expect.status(exchange, "ENTRA-AUTH-REQUIRED", 401)


@requirement("ENTRA-AUTH-WRONG-TOKEN")
def test_wrong_token_refused(scim):
    """A request with a token the server never issued is refused."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'},
                        token=f"not-a-valid-token-{uuid.uuid4().hex}")
    expect.status(exchange, "ENTRA-AUTH-WRONG-TOKEN", 401)


def _same_answer(requirement_id, plain, variant):
    """The variant request must be served like the plain one: same status, same kind of body."""
    if (variant.status, variant.json is None) != (plain.status, plain.json is None):
        expect.fail(requirement_id, f"the same answer as without the difference ({expect.describe(plain)})",
                    expect.describe(variant), variant)


@requirement("ENTRA-NO-USER-AGENT")
def test_no_user_agent(scim):
    """Entra's Test Connection has been seen sending no User-Agent header at all."""
    params = {"filter": f'userName eq "{uuid.uuid4()}"'}
    _same_answer("ENTRA-NO-USER-AGENT", scim.get("/Users", params=params),
                 scim.get("/Users", params=params, headers={"User-Agent": None}))


@requirement("ENTRA-UNKNOWN-QUERY-PARAM")
def test_flag_on_tenant_url(scim, dialect):
    """An admin appends a behaviour flag (aadOptscim062020) to the tenant URL; it may reach the server."""
    flag = dialect.url_flag or "aadOptscim062020"
    query = f"filter=userName%20eq%20%22{uuid.uuid4()}%22"
    _same_answer("ENTRA-UNKNOWN-QUERY-PARAM", scim.get("/Users", query=query),
                 scim.get("/Users", query=f"{flag}&{query}"))


@requirement("ENTRA-REQUEST-CHARSET")
@pytest.mark.parametrize("content_type", ["application/scim+json", "application/scim+json; charset=utf-8"])
def test_request_content_types(scim, users, identities, content_type):
    """Entra labels its bodies application/scim+json; Microsoft's validator adds a charset parameter."""
    exchange = users.post(identities.user_body(), headers={"Content-Type": content_type})
    expect.status(exchange, "ENTRA-REQUEST-CHARSET", 201, 200)
