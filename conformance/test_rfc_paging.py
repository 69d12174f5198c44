"""RFC 7644 §3.4.2.4 paging, over a filtered list of this run's own users."""

from __future__ import annotations

import json

import pytest

from scim_conformance import expect
from scim_conformance.resources import plain_body
from scim_conformance.steps import advertised, text_attribute

requirement = pytest.mark.requirement


@requirement("RFC-PAGING")
def test_paging(scim, users, identities, service_provider_config, declared):
    """A client counts three users with count=0, then pages through them two at a time from startIndex 0."""
    rid = "RFC-PAGING"
    advertised(service_provider_config, "filter")  # the walk is scoped to this run's users by a filter
    text = text_attribute(declared)
    tag = f"{identities.prefix} paging"  # this check's users only, whatever else the run left behind
    mine = {users.create({**plain_body(identities.user_body()), text: tag})["id"] for _ in range(3)}
    scope = {"filter": f"userName sw {json.dumps(identities.prefix)} and {text} eq {json.dumps(tag)}",
             "attributes": "id"}
    counted = scim.get("/Users", params={**scope, "count": 0}, partial=True)
    if expect.list_response(counted, rid):
        expect.fail(rid, "no resources for count=0", f"{len(counted.json['Resources'])}", counted)
    expect.equal(rid, "totalResults for count=0", 3, _number(counted.json.get("totalResults")), counted)
    seen: list[str] = []
    for start, echoed, size in ((0, 1, 2), (3, 3, 1)):
        page = scim.get("/Users", params={**scope, "startIndex": start, "count": 2}, partial=True)
        resources = expect.list_response(page, rid)
        data = page.json
        expect.equal(rid, f"startIndex echoed for startIndex={start}", echoed, _number(data.get("startIndex")), page)
        expect.equal(rid, f"resources on the page from {echoed}", size, len(resources), page)
        expect.equal(rid, "itemsPerPage", len(resources), _number(data.get("itemsPerPage", len(resources))), page)
        expect.equal(rid, "totalResults", 3, _number(data.get("totalResults")), page)
        seen += [r.get("id") for r in resources]
    if sorted(seen) != sorted(mine):
        expect.fail(rid, "each of the 3 users exactly once across the pages", f"ids {seen}", scim.transcript[-1])


def _number(value: object) -> object:
    # A numeric string is judged by RFC-LIST-RESPONSE-SCHEMA; paging only needs the number.
    return int(value) if isinstance(value, str) and value.isdigit() else value


@requirement("RFC-SORT")
def test_sorting(scim, users, identities, service_provider_config, declared):
    """A client lists three users by title, descending, then in the default (ascending) order."""
    rid = "RFC-SORT"
    advertised(service_provider_config, "sort")
    advertised(service_provider_config, "filter")  # the list is scoped to this check's users by a filter
    text = text_attribute(declared)  # title, or another string attribute the server declares
    tag = f"{identities.prefix} sort "
    # Created out of order, and "C" in capitals: title is not caseExact, so it sorts between "b" and "d".
    names = {title: users.create({**plain_body(identities.user_body()), text: tag + title})["id"]
             for title in ("b", "C", "a")}
    scope = {"filter": f"{text} sw {json.dumps(tag)}", "attributes": f"id,{text}"}
    for order, wanted in (("descending", ["C", "b", "a"]), (None, ["a", "b", "C"])):
        params = {**scope, "sortBy": text, **({"sortOrder": order} if order else {})}
        exchange = scim.get("/Users", params=params, partial=True)
        ids = [r.get("id") for r in expect.list_response(exchange, rid)]
        got = [title for i in ids for title, mine in names.items() if mine == i]
        expect.equal(rid, f"titles sorted {order or 'by default (ascending)'}", wanted, got, exchange)
