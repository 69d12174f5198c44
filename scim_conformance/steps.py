"""Steps the checks share, worded as the IdP's own requests: look a user up, read it back, patch it."""

from __future__ import annotations

from typing import Any

from scim_conformance import expect
from scim_conformance.client import Exchange, ScimClient
from scim_conformance.profile import Dialect


def eq_filter(attribute: str, value: str) -> str:
    return f'{attribute} eq "{value}"'


def lookup(scim: ScimClient, endpoint: str, attribute: str, value: str, dialect: Dialect | None = None,
           **params: str) -> Exchange:
    """`GET /Users?filter=attr eq "value"` with the filter percent-encoded (spaces as %20), plus the paging
    parameters the IdP's lookups carry (Okta: `&startIndex=1&count=100`)."""
    paging = dict(dialect.lookup_params) if dialect else {}
    return scim.get(endpoint, params={**params, "filter": eq_filter(attribute, value), **paging},
                    partial=bool(params))


def put(scim: ScimClient, endpoint: str, resource: dict[str, Any], requirement: str) -> Exchange:
    """Replace a resource with PUT, as Okta updates a profile: the whole resource, its id in the body."""
    exchange = scim.put(f"{endpoint}/{resource['id']}", resource)
    return expect.status(exchange, requirement, 200)


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
        seen.extend(r.get("id") for r in page)
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
