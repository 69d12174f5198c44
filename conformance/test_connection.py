"""Connection and authentication: what Entra's Test Connection and every later request rely on."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ERROR
from scim_conformance.steps import lookup

requirement = pytest.mark.requirement


def _someone_exists(scim, resources, body):
    """Make sure the collection is not empty, so a server that ignores `filter` shows it by listing someone.

    A read-only run (or a server that creates nothing) relies on who is already there; with nobody at all, an
    empty answer to the probe would prove nothing, so the probe is blocked rather than passed.
    """
    if not resources.read_only and resources.try_create(body) is not None:
        return
    listed = scim.get(resources.endpoint, params={"count": "1", "attributes": "id"}, partial=True)
    data = listed.json if isinstance(listed.json, dict) else {}
    total = data.get("totalResults")
    if not data.get("Resources") and not (isinstance(total, int) and total > 0):
        kind = resources.endpoint[1:-1].lower()
        expect.blocked(f"no {kind} could be created and {resources.endpoint} lists none, so an empty answer to "
                       f"the probe would prove nothing (GET {resources.endpoint} answered {expect.describe(listed)})")


@requirement("ENTRA-CONN-PROBE-EMPTY", "OKTA-LOOKUP-EMPTY")
def test_test_connection_probe(scim, users, identities, dialect, requirement_id):
    """The IdP asks for a user that cannot exist (Entra's Test Connection, Okta's lookup before a create)."""
    _someone_exists(scim, users, identities.user_body())
    exchange = lookup(scim, "/Users", "userName", str(uuid.uuid4()), dialect)
    # More than one result is MultipleEntriesInResponse to Entra; any result at all answers the wrong question.
    expect.list_response(exchange, requirement_id, total_results=0)


@requirement("ENTRA-CONN-PROBE-ENCODING")
@pytest.mark.parametrize("encoding", ["plus-raw-quotes", "percent-20-22"])
def test_probe_encodings(scim, users, identities, encoding):
    """The userName lookup, encoded as Entra and its validator put it on the wire, finds the user it names."""
    user = users.create(identities.user_body())
    users.create(identities.user_body())  # a second user, which a server ignoring the filter would list too
    name = quote(user["userName"], safe="@")
    query = f'filter=userName+eq+"{name}"' if encoding == "plus-raw-quotes" \
        else f"filter=userName%20eq%20%22{name}%22"
    exchange = scim.get("/Users", query=query)
    resources = expect.list_response(exchange, "ENTRA-CONN-PROBE-ENCODING")
    expect.equal("ENTRA-CONN-PROBE-ENCODING", "ids found", [user["id"]], [r.get("id") for r in resources], exchange)


@requirement("ENTRA-CONN-GROUP-PROBE")
def test_group_probe(scim, groups, identities):
    """Entra also looks up a random group, asking the server to leave members out."""
    _someone_exists(scim, groups, identities.group_body())
    exchange = lookup(scim, "/Groups", "displayName", str(uuid.uuid4()), excludedAttributes="members")
    expect.list_response(exchange, "ENTRA-CONN-GROUP-PROBE", total_results=0)


def _refusals(requirement_id):
    # The RFC asks only that the request be refused; that the refusal is a 401 is RFC-AUTH-401's own finding.
    return (401, 403) if requirement_id == "RFC-AUTH-REQUIRED" else (401,)


@requirement("ENTRA-AUTH-REQUIRED", "OKTA-AUTH-REQUIRED", "RFC-AUTH-REQUIRED")
def test_no_token_refused(scim, requirement_id):
    """A request with no Authorization header at all is refused."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'}, token=None)
    expect.status(exchange, requirement_id, *_refusals(requirement_id))


@requirement("ENTRA-AUTH-WRONG-TOKEN", "RFC-AUTH-REQUIRED")
def test_wrong_token_refused(scim, requirement_id):
    """A request with a token the server never issued is refused."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'},
                        token=f"not-a-valid-token-{uuid.uuid4().hex}")
    expect.status(exchange, requirement_id, *_refusals(requirement_id))


@requirement("RFC-AUTH-ERROR-BODY")
def test_unauthorized_error_body(scim):
    """The refusal of a request without a token is itself a SCIM error: application/scim+json, Error schema."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'}, token=None)
    if exchange.status != 401:
        expect.blocked(f"a request without a token answered {expect.describe(exchange)}, not 401")
    media = exchange.content_type.split(";")[0].strip().lower()
    data = exchange.json
    if media != "application/scim+json" or not isinstance(data, dict) or ERROR not in (data.get("schemas") or []) \
            or data.get("status") != "401":
        expect.fail("RFC-AUTH-ERROR-BODY", 'an application/scim+json Error body with status "401"',
                    expect.describe(exchange), exchange)


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
def test_request_charset(users, identities):
    """Entra labels its bodies application/scim+json; Microsoft's validator adds a charset parameter."""
    # The control: a create labelled plainly, as Entra does (blocked if the server takes no user at all).
    users.create(identities.user_body())
    exchange = users.post(users.in_accepted_form(identities.user_body()),
                          headers={"Content-Type": "application/scim+json; charset=utf-8"})
    expect.status(exchange, "ENTRA-REQUEST-CHARSET", 201, 200)
