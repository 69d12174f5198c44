"""What only Okta sends: its connector test, the steps of its Runscope SPEC test, PUT of the whole user,
Group Push's own PATCH shapes, imports, and how it meets a 429.

Everything Okta does the way Entra does is judged by the shared checks of the capability modules, which
name an OKTA-* requirement beside the ENTRA-* one; where Okta's spec test asserts more than Entra relies on
(the user read back, the error bodies), Okta has its own check here. Research notes: docs/research/okta.md.
"""

from __future__ import annotations

import copy
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from scim_conformance import expect
from scim_conformance.attributes import ERROR, get_attribute, parse_path
from scim_conformance.attributes import read as value_at
from scim_conformance.client import TransportError
from scim_conformance.steps import lookup, patch, put, text_attribute, walk_pages, with_members
from scim_conformance.steps import read as reread

requirement = pytest.mark.requirement
TEST_CONNECTOR_COUNT = 2  # Okta's Test Connector Configuration asks for GET /Users?startIndex=1&count=2


@requirement("OKTA-LIST-USERS")
def test_connector_lists_users(scim, users, identities, dialect):
    """Okta's Test Connector Configuration lists users: GET /Users?startIndex=1&count=2, then reads one by id."""
    created = [users.create(identities.user_body()) for _ in range(TEST_CONNECTOR_COUNT + 1)]
    # Only ids, unlike Okta: on a live tenant the first page holds other people, who must not land in a report.
    exchange = scim.get("/Users", params={"startIndex": 1, "count": TEST_CONNECTOR_COUNT, "attributes": "id"},
                        partial=True)
    page = expect.list_response(exchange, "OKTA-LIST-USERS")
    data = exchange.json
    for key, wanted in (("startIndex", 1), ("itemsPerPage", len(page))):
        expect.equal("OKTA-LIST-USERS", key, wanted, data.get(key), exchange)
    if not isinstance(data.get("totalResults"), int):
        expect.fail("OKTA-LIST-USERS", "totalResults as a number", f"totalResults {data.get('totalResults')!r}",
                    exchange)
    if not page or len(page) > TEST_CONNECTOR_COUNT:
        expect.fail("OKTA-LIST-USERS", f"1 to {TEST_CONNECTOR_COUNT} users (count), while users exist",
                    f"{len(page)} users", exchange)
    if any(not r.get("id") for r in page):
        expect.fail("OKTA-LIST-USERS", "every user with an id", "a user without one", exchange)
    # The spec test then judges the first listed user whole. Ours stands in for it: a page of one, found by
    # Okta's own lookup, so that no one else's record is shown.
    mine = created[0]
    listed = lookup(scim, "/Users", "userName", mine["userName"], dialect)
    found = expect.list_response(listed, "OKTA-LIST-USERS")
    if [r.get("id") for r in found] != [mine["id"]]:
        expect.blocked(f"Okta's lookup of {mine['userName']!r} did not list that user alone (judged by "
                       "OKTA-LOOKUP-USERNAME)")
    _spec_fields(found[0], "OKTA-LIST-USERS", listed)
    exchange = scim.get(f"/Users/{mine['id']}")
    read_back = expect.body(expect.status(exchange, "OKTA-LIST-USERS", 200), "OKTA-LIST-USERS")
    _spec_fields(read_back, "OKTA-LIST-USERS", exchange)
    expect.equal("OKTA-LIST-USERS", "id", mine["id"], read_back.get("id"), exchange)


# What the spec test asserts is not empty on a user it lists and on the same user read by id.
SPEC_USER_FIELDS = ("id", "userName", "name.givenName", "name.familyName", "active", "emails.value")


def _spec_fields(resource, requirement_id, exchange):
    empty = [f for f in SPEC_USER_FIELDS
             if (resource.get("id") if f == "id" else value_at(resource, parse_path(f))) in (None, "", [], {})]
    if empty:
        shown = ", ".join("emails[0].value" if f == "emails.value" else f for f in empty)
        expect.fail(requirement_id, "id, userName, name.givenName, name.familyName, active and emails[0].value",
                    f"empty or absent: {shown}", exchange)


def _okta_error(exchange, requirement_id, status):
    """The spec test's error assertions: the status, a SCIM Error with a detail, and `status` naming the code.

    Okta's own protocol reference writes `status` as a number, and the spec test compares it as text, so either
    form passes here; the RFC's string form is RFC-ERROR-SCHEMA's subject.
    """
    data = expect.body(expect.status(exchange, requirement_id, status), requirement_id)
    if ERROR not in (data.get("schemas") or []) or not data.get("detail") or str(data.get("status")) != str(status):
        expect.fail(requirement_id, f'a SCIM Error with a detail and status {status}', expect.describe(exchange),
                    exchange)


@requirement("OKTA-AUTH-401")
def test_wrong_token_scim_error(scim):
    """Okta's spec test sends `Authorization: non-token` (no scheme, no token) and expects a SCIM Error."""
    exchange = scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"'}, token=None,
                        headers={"Authorization": "non-token"})
    _okta_error(exchange, "OKTA-AUTH-401", 401)


@requirement("OKTA-USER-UNKNOWN-404")
def test_read_unknown_user_id(scim, identities):
    """Okta's spec test reads a user id that does not exist: 404 with a SCIM Error naming it."""
    _okta_error(scim.get(f"/Users/{identities.unknown_id()}"), "OKTA-USER-UNKNOWN-404", 404)


@requirement("OKTA-USER-READ")
def test_read_created_user(scim, users, identities):
    """Okta's spec test reads the user it created by id: userName, givenName and familyName exactly as sent."""
    user = users.create(identities.user_body())
    body = users.sent[user["id"]]  # what the server accepted: Okta's body, or a plainer one it fell back to
    exchange = scim.get(f"/Users/{user['id']}")
    stored = expect.body(expect.status(exchange, "OKTA-USER-READ", 200), "OKTA-USER-READ")
    expect.equal("OKTA-USER-READ", "id", user["id"], stored.get("id"), exchange)
    for path in ("userName", "name.givenName", "name.familyName", "emails.value"):
        sent = value_at(body, parse_path(path))
        if sent is not None:
            expect.equal("OKTA-USER-READ", path, sent, value_at(stored, parse_path(path)), exchange)


@requirement("OKTA-REQUEST-JSON")
def test_create_labelled_application_json(users, identities):
    """Okta's spec test creates its user with Content-Type application/json."""
    exchange = users.post(identities.user_body(), headers={"Content-Type": "application/json"})
    expect.status(exchange, "OKTA-REQUEST-JSON", 201, 200)


@requirement("OKTA-GROUP-LOOKUP")
def test_group_lookup(scim, groups, identities, dialect):
    """Group Push finds a group whose id it does not know by displayName, with startIndex=1&count=100."""
    group = groups.create(identities.group_body())
    groups.create(identities.group_body())  # a second group that must not answer the lookup
    exchange = lookup(scim, "/Groups", "displayName", group["displayName"], dialect)
    found = expect.list_response(exchange, "OKTA-GROUP-LOOKUP")
    expect.equal("OKTA-GROUP-LOOKUP", "ids found", [group["id"]], [g.get("id") for g in found], exchange)


@requirement("OKTA-LOOKUP-USERNAME-CASE")
def test_lookup_username_other_case(scim, users, identities, dialect):
    """Okta's spec test looks the user it created up again by its userName in capitals."""
    user = users.create(identities.user_body())
    exact = lookup(scim, "/Users", "userName", user["userName"], dialect)
    data = exact.json if isinstance(exact.json, dict) else {}
    if exact.status != 200 or [r.get("id") for r in data.get("Resources") or [] if isinstance(r, dict)] != [user["id"]]:
        expect.blocked("Okta's lookup by the exact userName did not find the user alone (judged by "
                       "OKTA-LOOKUP-USERNAME)")
    capitals = user["userName"].upper()
    if capitals == user["userName"]:
        expect.blocked(f"the userName {user['userName']!r} has no letter whose case could change")
    exchange = lookup(scim, "/Users", "userName", capitals, dialect)
    found = expect.list_response(exchange, "OKTA-LOOKUP-USERNAME-CASE")
    expect.equal("OKTA-LOOKUP-USERNAME-CASE", "ids found", [user["id"]], [r.get("id") for r in found], exchange)


# Okta's throttling: a 429 pauses the task for Retry-After seconds, read as a whole number only. Rounds of
# simultaneous lookups give a server that limits its clients the occasion to show how it words a refusal.
BURST_ROUNDS, BURST_SIZE = 3, 8


def _lookup_at(start, scim):
    start.wait(timeout=30)
    return scim.get("/Users", params={"filter": f'userName eq "{uuid.uuid4()}"', "startIndex": 1, "count": 1})


def _burst(scim):
    """Send rounds of simultaneous lookups with the client's own 429 retries off; returns the 429 answers."""
    refusals = []
    retry, scim.retry_429 = scim.retry_429, False
    try:
        with ThreadPoolExecutor(BURST_SIZE) as pool:
            for _ in range(BURST_ROUNDS):
                start = threading.Barrier(BURST_SIZE)
                answers = pool.map(_lookup_at, [start] * BURST_SIZE, [scim] * BURST_SIZE)
                refusals += [e for e in answers if e.status == 429]
                if refusals:
                    break
    finally:
        scim.retry_429 = retry
    return refusals


@requirement("OKTA-RETRY-AFTER-SECONDS")
def test_throttle_retry_after_seconds(scim):
    """Okta meets a 429 by waiting Retry-After seconds, and reads that header only as a whole number."""
    refusals = _burst(scim)
    if not refusals:
        expect.not_applicable(f"{BURST_ROUNDS} rounds of {BURST_SIZE} simultaneous lookups met no 429, so how the "
                              "server words Retry-After could not be seen")
    for exchange in refusals:
        value = (exchange.header("Retry-After") or "").strip()
        if not value.isdigit():
            expect.fail("OKTA-RETRY-AFTER-SECONDS", "a 429 with Retry-After as a whole number of seconds",
                        f"Retry-After {value!r}" if value else "a 429 without Retry-After", exchange)


def _read_premise(scim, endpoint, resource_id):
    """Okta reads the resource before it writes it back; a read that fails leaves nothing to judge."""
    exchange = scim.get(f"{endpoint}/{resource_id}")
    if exchange.status != 200 or not isinstance(exchange.json, dict):
        expect.blocked(f"reading {endpoint}/{resource_id} before the PUT answered {expect.describe(exchange)}")
    return copy.deepcopy(exchange.json)


def _as_okta_puts(resource, dialect):
    """The resource read back, as Okta sends it back: its own empty lists (groups []) included."""
    for attribute in dialect.empty_attributes.get("users", ()):
        resource.setdefault(attribute, [])
    return resource


@requirement("OKTA-PUT-REPLACE")
def test_put_profile_update(scim, users, identities, dialect):
    """A first name changed in Okta: Okta reads the user, changes name.givenName and PUTs the whole user back."""
    user = users.create(identities.user_body())
    body = _as_okta_puts(_read_premise(scim, "/Users", user["id"]), dialect)
    before = copy.deepcopy(body)
    new_given = f"{get_attribute(body.get('name') or {}, 'givenName') or 'Given'}update"
    body.setdefault("name", {})["givenName"] = new_given
    put(scim, "/Users", body, "OKTA-PUT-REPLACE")
    stored = reread(scim, "/Users", user["id"], "OKTA-PUT-REPLACE")
    expect.equal("OKTA-PUT-REPLACE", "name.givenName", new_given, get_attribute(stored.get("name") or {}, "givenName"))
    for key in ("userName", "emails", "externalId"):
        expect.equal("OKTA-PUT-REPLACE", key, get_attribute(before, key), get_attribute(stored, key))


@requirement("OKTA-PUT-PASSWORD")
def test_put_with_password(scim, users, identities, dialect, profile):
    """With password sync on, Okta's PUT of the whole user also carries the password set in Okta."""
    if not profile.password_sync:
        expect.not_applicable(f"profile {profile.name} does not sync passwords")
    user = users.create(identities.user_body())
    body = _as_okta_puts(_read_premise(scim, "/Users", user["id"]), dialect)
    given = get_attribute(body.get("name") or {}, "givenName") or "Given"
    # The same PUT without a password first: a server that refuses Okta's PUTs altogether fails OKTA-PUT-REPLACE.
    body.setdefault("name", {})["givenName"] = f"{given}before"
    plain = scim.put(f"/Users/{user['id']}", body)
    body = _as_okta_puts(_read_premise(scim, "/Users", user["id"]), dialect)
    if plain.status != 200 or get_attribute(body.get("name") or {}, "givenName") != f"{given}before":
        expect.blocked(f"the PUT without a password did not take effect (it answered {expect.describe(plain)}; "
                       "judged by OKTA-PUT-REPLACE)")
    body.setdefault("name", {})["givenName"] = f"{given}after"
    body["password"] = f"Pw-{uuid.uuid4().hex[:12]}!x"
    scim.redact.add(body["password"])  # a password all the same: never in a report
    put(scim, "/Users", body, "OKTA-PUT-PASSWORD")
    stored = reread(scim, "/Users", user["id"], "OKTA-PUT-PASSWORD")
    expect.equal("OKTA-PUT-PASSWORD", "name.givenName", f"{given}after",
                 get_attribute(stored.get("name") or {}, "givenName"))


@requirement("OKTA-PUT-OMITTED")
@pytest.mark.parametrize("emptied", ["empty-string", "left-out"])
def test_put_with_emptied_value(scim, users, identities, dialect, declared, emptied):
    """A title emptied in Okta: the next PUT carries it as "" or leaves it out (Okta's test plan: no error)."""
    text = text_attribute(declared, "title", "nickName")  # an optional string attribute the server declares
    body = identities.user_body()
    body[text] = "Engineer"
    user = users.create(body)
    current = _as_okta_puts(_read_premise(scim, "/Users", user["id"]), dialect)
    if get_attribute(current, text) != "Engineer":
        expect.blocked(f"the server did not keep the {text} it was sent")
    # The same PUT with the value kept first: a server that refuses Okta's PUTs altogether fails OKTA-PUT-REPLACE.
    unchanged = scim.put(f"/Users/{user['id']}", current)
    if unchanged.status != 200:
        expect.blocked(f"the PUT with nothing changed answered {expect.describe(unchanged)} (judged by "
                       "OKTA-PUT-REPLACE)")
    emptied_body = {k: v for k, v in current.items() if k.lower() != text.lower()}
    if emptied == "empty-string":
        emptied_body[text] = ""
    put(scim, "/Users", emptied_body, "OKTA-PUT-OMITTED")


def _members(scim, group_id, requirement_id):
    stored = reread(scim, "/Groups", group_id, requirement_id)
    return sorted(m.get("value") for m in get_attribute(stored, "members") or [] if isinstance(m, dict))


def _group_with(scim, groups, identities, dialect, members):
    """A pushed group holding `members` already (the premise of a membership change)."""
    group = groups.create(identities.group_body())
    added = scim.patch(f"/Groups/{group['id']}", dialect.patch(dialect.add_members(members)))
    if added.status not in (200, 204):
        expect.blocked(f"adding members answered {expect.describe(added)}")
    return group


@requirement("OKTA-GROUP-RENAME")
def test_group_rename_with_id(scim, groups, identities, dialect):
    """Okta renames a pushed group with a path-less replace that restates the group's id beside displayName."""
    group = groups.create(identities.group_body())
    new_name = f"{group['displayName']} renamed"
    patch(scim, "/Groups", group["id"], "OKTA-GROUP-RENAME", dialect,
          dialect.operation("replace", value={"id": group["id"], "displayName": new_name}))
    stored = reread(scim, "/Groups", group["id"], "OKTA-GROUP-RENAME")
    expect.equal("OKTA-GROUP-RENAME", "displayName", new_name, get_attribute(stored, "displayName"))


@requirement("OKTA-GROUP-MEMBERS-ONE-REQUEST")
def test_group_remove_and_add_in_one_patch(scim, users, groups, identities, dialect):
    """Okta batches a group's membership changes: one PATCH removes one member and adds another."""
    leaver, joiner = users.create(identities.user_body()), users.create(identities.user_body())
    group = _group_with(scim, groups, identities, dialect, [leaver])
    patch(scim, "/Groups", group["id"], "OKTA-GROUP-MEMBERS-ONE-REQUEST", dialect,
          *dialect.remove_members([leaver["id"]]), dialect.add_members([joiner]))
    expect.equal("OKTA-GROUP-MEMBERS-ONE-REQUEST", "member ids", [joiner["id"]],
                 _members(scim, group["id"], "OKTA-GROUP-MEMBERS-ONE-REQUEST"))


@requirement("OKTA-GROUP-PUSH-NOW")
def test_group_push_now(scim, users, groups, identities, dialect):
    """Push Now makes the app's group match Okta's: a replace on members with the whole list."""
    first, second, third = (users.create(identities.user_body()) for _ in range(3))
    group = _group_with(scim, groups, identities, dialect, [first, second])
    patch(scim, "/Groups", group["id"], "OKTA-GROUP-PUSH-NOW", dialect,
          dialect.operation("replace", "members", [dialect.member(m) for m in (second, third)]))
    expect.equal("OKTA-GROUP-PUSH-NOW", "member ids", sorted([second["id"], third["id"]]),
                 _members(scim, group["id"], "OKTA-GROUP-PUSH-NOW"))


# Group Push puts up to 100 members in one PATCH by default (an org can raise it to 1,000); Okta waits 60 s.
GROUP_PUSH_BATCH = 100
OKTA_TIMEOUT_S = 60


@requirement("OKTA-GROUP-PUSH-BATCH")
def test_group_push_batch(scim, users, groups, identities, dialect):
    """Group Push adds members 100 to a PATCH: one add on members with 100 {value, display} elements."""
    first = users.create(identities.user_body())
    batch = [users.create(identities.user_body()) for _ in range(GROUP_PUSH_BATCH)]
    # A group that already took one member, confirmed on a re-read, so that only the size of the batch is judged.
    group = groups.create(identities.group_body())
    with_members(scim, dialect, group["id"], [first["id"]])
    try:
        exchange = scim.patch(f"/Groups/{group['id']}", dialect.patch(dialect.add_members(batch)),
                              timeout=OKTA_TIMEOUT_S)
    except TransportError as exc:
        if exc.kind != "timeout":
            raise
        expect.fail("OKTA-GROUP-PUSH-BATCH", f"an answer within {OKTA_TIMEOUT_S} s", str(exc), exc.exchange)
    expect.status(exchange, "OKTA-GROUP-PUSH-BATCH", 200, 204)
    expect.equal("OKTA-GROUP-PUSH-BATCH", f"{GROUP_PUSH_BATCH + 1} member ids",
                 sorted([first["id"], *(u["id"] for u in batch)]), _members(scim, group["id"], "OKTA-GROUP-PUSH-BATCH"))


def _import_count(dialect):
    return dialect.import_count or 100


@requirement("OKTA-IMPORT-USERS")
def test_import_users(scim, users, identities, dialect):
    """An import walks /Users with count=100, adding 100 to startIndex each time, until totalResults."""
    count = _import_count(dialect)
    created = [users.create(identities.user_body())["id"] for _ in range(count + 1)]
    walk_pages(scim, "/Users", "OKTA-IMPORT-USERS", created, count, advance_by_count=True)


@requirement("OKTA-IMPORT-GROUPS")
def test_import_groups(scim, groups, identities, dialect):
    """A group import walks /Groups the same way."""
    count = _import_count(dialect)
    created = [groups.create(identities.group_body())["id"] for _ in range(count + 1)]
    walk_pages(scim, "/Groups", "OKTA-IMPORT-GROUPS", created, count, advance_by_count=True)
