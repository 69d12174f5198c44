"""Steps the checks share, worded as the IdP's own requests: look a user up, read it back, patch it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from scim_conformance import expect
from scim_conformance.attributes import get_attribute, parse_path, path_shaped_keys, primary_flag
from scim_conformance.attributes import read as value_at
from scim_conformance.client import Exchange, ScimClient
from scim_conformance.declared import Declared
from scim_conformance.dialect import Dialect
from scim_conformance.identities import IdentityFactory
from scim_conformance.outcomes import Outcome, Unjudged
from scim_conformance.resources import Resources, plain_body


def eq_filter(attribute: str, value: str) -> str:
    return f'{attribute} eq "{value}"'


def lookup(scim: ScimClient, endpoint: str, attribute: str, value: str, dialect: Dialect | None = None,
           **params: str) -> Exchange:
    """`GET /Users?filter=attr eq "value"` with the filter percent-encoded (spaces as %20), plus the paging
    parameters the IdP's lookups carry (Okta: `&startIndex=1&count=100`)."""
    paging = dict(dialect.lookup_params) if dialect else {}
    return scim.get(endpoint, params={**params, "filter": eq_filter(attribute, value), **paging},
                    partial=bool(params))


# Parts of a create body a read-back does not compare: the message's own metadata, the write-only password,
# and what checks of their own judge (roles: ENTRA-ROLES-*; active: ENTRA-USER-ATTRIBUTES-RETURNED and the
# deactivation checks, since Entra reads it as a state, not as a value it typed).
_NOT_READ_BACK = {"schemas", "meta", "password", "roles", "active"}
# How a check compares one value sent with the one read back: (attribute path, sent, read back) -> same?
Same = Callable[[str, Any, Any], bool]


def exactly(_path: str, sent: Any, got: Any) -> bool:
    return bool(sent == got)


def as_declared(case_exact: Callable[[str], bool | None],
                declares: Callable[[str], bool] = lambda _path: True) -> Same:
    """Values compared as the server declares them (RFC 7643 §2.2): a string whose attribute it declares caseExact
    false is the same value in any letter case (it may return emails.value lower-cased); anything else, and
    anything it declares nothing about, must come back exactly as sent. A value at a path the server does not
    declare is not compared at all: what the IdP sends that the server lacks is one finding of its own."""
    def same(path: str, sent: Any, got: Any) -> bool:
        if sent == got or not declares(path):
            return True
        return isinstance(sent, str) and isinstance(got, str) and case_exact(path) is False \
            and sent.casefold() == got.casefold()
    return same


def unlike_sent(body: dict[str, Any], stored: dict[str, Any], same: Same = exactly) -> list[str]:
    """Every value of a create body that a re-read does not show as it was sent, one line each.

    Names, sub-attributes and extension objects are followed down to each value; a typed element of a
    multi-valued attribute is found by its type; a 'primary' left out reads as false (RFC 7643 §2.4).
    """
    wrong: list[str] = []

    def compare(path: str, sent: Any, got: Any) -> None:
        if not same(path, sent, got):
            wrong.append(f"{path}: sent {sent!r}, read back {got!r}")

    def walk(sent: dict[str, Any], got: Any, prefix: str) -> None:
        for key, value in sent.items():
            if value in (None, [], {}) or (not prefix and key.lower() in _NOT_READ_BACK):
                continue
            path = f"{prefix}{key}"
            back = get_attribute(got, key)
            if isinstance(value, dict) and isinstance(back, dict):
                walk(value, back, f"{path}:" if key.lower().startswith("urn:") else f"{path}.")
            elif isinstance(value, list) and all(isinstance(e, dict) for e in value):
                for element in value:
                    kind = get_attribute(element, "type")
                    found = next((e for e in back if isinstance(e, dict) and get_attribute(e, "type") == kind),
                                 None) if isinstance(back, list) else None
                    where = f'{path}[type eq "{kind}"]' if kind is not None else path
                    if found is None:
                        compare(where, element, None)  # the whole element is missing: one line, not one per value
                        continue
                    for sub, item in element.items():
                        read_back = get_attribute(found, sub)
                        if item is not None:
                            compare(f"{where}.{sub}", item, primary_flag(read_back) if sub == "primary" else read_back)
            else:
                compare(path, value, back)

    walk(body, stored, "")
    return wrong


def put(scim: ScimClient, endpoint: str, resource: dict[str, Any], requirement: str) -> Exchange:
    """Replace a resource with PUT, as Okta updates a profile: the whole resource, its id in the body."""
    exchange = scim.put(f"{endpoint}/{resource['id']}", resource)
    return expect.status(exchange, requirement, 200)


def read(scim: ScimClient, endpoint: str, resource_id: str, requirement: str) -> dict[str, Any]:
    """Re-read a resource after a change: a 2xx to the change alone proves nothing.

    A path the server stored as a literal top-level key is a change it did not make, so it fails here.
    """
    exchange = scim.get(f"{endpoint}/{resource_id}")
    expect.status(exchange, requirement, 200)
    resource = expect.body(exchange, requirement)
    junk = path_shaped_keys(resource)
    if junk:
        expect.fail(requirement, "every change applied to its attribute",
                    f"path-shaped top-level key(s) {', '.join(map(repr, junk))} stored literally", exchange)
    return resource


def patch(scim: ScimClient, endpoint: str, resource_id: str, requirement: str, dialect: Dialect,
          *operations: dict[str, Any]) -> Exchange:
    """Send a PatchOp and accept either answer RFC 7644 §3.5.2 allows (200 with the resource, or 204)."""
    exchange = scim.patch(f"{endpoint}/{resource_id}", dialect.patch(*operations))
    return expect.status(exchange, requirement, 200, 204)


def group_with_one_member(users: Resources, groups: Resources,
                          identities: IdentityFactory) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A new user, and a group created with that user as its one member, as a client following the RFC sends it:
    (the user, the group body sent, the group as created)."""
    user = users.create(plain_body(identities.user_body()))
    body = plain_body(identities.group_body())
    body["members"] = [{"value": user["id"]}]
    return user, body, groups.create(body)


def delete_twice(scim: ScimClient, resources: Resources, resource: dict[str, Any]) -> Exchange:
    """Delete a resource, confirm it is gone, and DELETE it again; the second answer is the one judged."""
    path = f"{resources.endpoint}/{resource['id']}"
    first = resources.delete(resource["id"])
    gone = scim.get(path)
    if first.status not in (200, 204) or gone.status != 404:
        expect.blocked(f"the first DELETE did not remove {path} "
                       f"(DELETE answered {first.status}, a re-read {gone.status})")
    return scim.delete(path)


def role_values(user: dict[str, Any]) -> list[str]:
    return sorted(str(get_attribute(r, "value")) for r in get_attribute(user, "roles") or [] if isinstance(r, dict))


def member_ids(group: dict[str, Any]) -> list[str]:
    return sorted(str(m.get("value")) for m in get_attribute(group, "members") or [] if isinstance(m, dict))


def with_members(scim: ScimClient, dialect: Dialect, group_id: str, members: list[str]) -> None:
    """Set up a group's members the IdP's way and confirm on a re-read; blocked when they are not all there."""
    exchange = scim.patch(f"/Groups/{group_id}", dialect.patch(dialect.add_members(members)))
    stored = scim.get(f"/Groups/{group_id}")
    found = member_ids(stored.json) if stored.status == 200 and isinstance(stored.json, dict) else []
    if not set(members) <= set(found):
        expect.blocked(f"adding {len(members)} member(s) did not take effect (PATCH answered "
                       f"{exchange.status}; a re-read shows {len(found)} of them)")


def holding(scim: ScimClient, dialect: Dialect, endpoint: str, resource_id: str,
            defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The resource, re-read and confirmed to hold a value at each path a check relies on.

    A premise the server accepted only in a plainer form may lack some of them: those are added the way
    the IdP adds what the target lacks (one new element per value-filtered path), with `defaults`, and
    read again. When they still are not there the check is blocked, naming them. The check then works
    with the values the server shows, not the ones it was sent.
    """
    resource_path = f"{endpoint}/{resource_id}"

    def current() -> dict[str, Any]:
        exchange = scim.get(resource_path)
        if exchange.status != 200 or not isinstance(exchange.json, dict):
            expect.blocked(f"re-reading {resource_path} answered {expect.describe(exchange)}")
        return exchange.json

    def absent(resource: dict[str, Any]) -> list[str]:
        return [p for p in defaults if value_at(resource, parse_path(p, endpoint[1:-1].title())) in (None, "")]

    stored = current()
    missing = absent(stored)
    if not missing:
        return stored
    operations: list[dict[str, Any]] = []
    elements: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for text in missing:
        path = parse_path(text, endpoint[1:-1].title())
        if path.filter_attribute is None:
            operations.append(dialect.operation("add", text, defaults[text]))
            continue
        element = elements.setdefault((path.attribute, path.filter_attribute, path.filter_value),
                                      {path.filter_attribute: path.filter_value})
        element[path.sub_attribute or "value"] = defaults[text]
    operations += [dialect.operation("add", attribute, [element]) for (attribute, *_), element in elements.items()]
    exchange = scim.patch(resource_path, dialect.patch(*operations))
    stored = current()
    still = absent(stored)
    if still:
        expect.blocked(f"{', '.join(still)} could not be given a value to start from "
                       f"(the create left it out; PATCH answered {expect.describe(exchange)})")
    return stored


@contextmanager
def decisive_anyway(requirement: str, send: Callable[[], Exchange]) -> Iterator[None]:
    """A premise that may block the check; when it does, the request under test is sent all the same.

    A 5xx (501 included) to the IdP's own request is wrong whatever the resource holds, so it is judged; any
    other answer leaves the check blocked, as the premise said.
    """
    try:
        yield
    except Unjudged as premise:
        if premise.outcome != Outcome.BLOCKED:
            raise
        exchange = send()
        if exchange.status is not None and exchange.status >= 500:
            expect.fail(requirement, f"no 5xx to {exchange.method} {exchange.path}, whatever the user holds",
                        expect.describe(exchange), exchange)
        raise


def accepted_variant(resources: Resources, make_body: Callable[[], dict[str, Any]],
                     change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A create body that differs in one way from one the server was just shown to accept.

    The control is a premise made from `make_body` (blocked when the server takes no form of it at all); the
    variant is a fresh body in the form the control was accepted in, with `change` applied. A refusal of the
    variant can then only be about the difference, not about something else in the IdP's body.
    """
    resources.create(make_body())
    body = copy.deepcopy(resources.in_accepted_form(make_body()))
    change(body)
    return body


# Single-valued string attributes of a User, for checks about a mechanism (filters, paging, PUT) not an attribute.
TEXT_ATTRIBUTES = ("title", "displayName", "nickName")


def text_attribute(declared: Declared, *candidates: str) -> str:
    """The first of `candidates` (default TEXT_ATTRIBUTES) the server declares; not applicable when none is."""
    found = declared.first("/Users", *(candidates or TEXT_ATTRIBUTES))
    if found is None:
        expect.not_applicable(f"the server declares none of {', '.join(candidates or TEXT_ATTRIBUTES)} in /Schemas")
    return found


def advertised(service_provider_config: dict[str, Any], feature: str) -> None:
    """Not applicable unless /ServiceProviderConfig says `feature` is supported (RFC 7643 §5: filter, patch, ...)."""
    section = service_provider_config.get(feature)
    if not (isinstance(section, dict) and section.get("supported") is True):
        expect.not_applicable(f"/ServiceProviderConfig does not advertise {feature}")


def walk_pages(scim: ScimClient, endpoint: str, requirement: str, created_ids: list[str], count: int,
               advance_by_count: bool = False) -> None:
    """Page through a collection with startIndex and count, and judge that it showed each resource once.

    Microsoft's harness starts the next page after what the last one held (1, 6, 11, … with count 5);
    Okta's import adds count to startIndex (1, 101, 201, …), whatever the page held.
    """
    seen: list[str] = []
    start, total = 1, None
    while True:
        # Only ids: on a live tenant the walk passes everyone else's records, which must not land in a report.
        exchange = scim.get(endpoint, params={"startIndex": start, "count": count, "attributes": "id"}, partial=True)
        page = expect.list_response(exchange, requirement)
        data = exchange.json
        if data.get("startIndex") != start:
            expect.fail(requirement, f"startIndex {start} echoed", f"startIndex {data.get('startIndex')!r}",
                        exchange)
        if len(page) > count:
            expect.fail(requirement, f"at most {count} resources per page", f"{len(page)}", exchange)
        total = data.get("totalResults")
        # A numeric string is judged by RFC-LIST-RESPONSE-SCHEMA; the walk only needs the number.
        total = int(total) if isinstance(total, str) and total.isdigit() else total
        seen.extend(str(r.get("id")) for r in page)
        start += count if advance_by_count else len(page)
        if not page or not isinstance(total, int) or start > total or start > 10_000:
            break
    mine = [i for i in seen if i in created_ids]
    if sorted(mine) != sorted(created_ids):
        expect.fail(requirement, f"each of the {len(created_ids)} resources this check made exactly once",
                    f"{len(set(mine))} distinct of them in {len(mine)} sightings (totalResults {total})")
    if len(seen) != len(set(seen)):
        expect.fail(requirement, "no resource twice across pages", f"{len(seen) - len(set(seen))} repeats")
    if isinstance(total, int) and total != len(seen):
        expect.fail(requirement, f"totalResults equal to the resources walked ({len(seen)})", f"{total}")
