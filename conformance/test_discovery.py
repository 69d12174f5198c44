"""Discovery and paging, at the level Microsoft's gallery validation asks for."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_GROUP, CORE_USER

requirement = pytest.mark.requirement
PAGE = 5


@requirement("ENTRA-SCHEMAS-DISCOVERY", "RFC-DISCOVERY-SCHEMA")
def test_schema_discovery(scim, profile):
    """Gallery apps read /Schemas to offer target attributes, expanding emails by its canonical types."""
    exchange = scim.get("/Schemas")
    schemas = expect.list_response(exchange, "ENTRA-SCHEMAS-DISCOVERY")
    ids = {s.get("id") for s in schemas if isinstance(s, dict)}
    wanted = {CORE_USER} | ({CORE_GROUP} if profile.groups else set())
    if not wanted <= ids:
        expect.fail("ENTRA-SCHEMAS-DISCOVERY", f"schemas {sorted(wanted)}", f"schemas {sorted(map(str, ids))}",
                    exchange)
    user = next(s for s in schemas if s.get("id") == CORE_USER)
    emails = next((a for a in user.get("attributes", []) if str(a.get("name")).lower() == "emails"), {})
    email_type = next((a for a in emails.get("subAttributes", []) if str(a.get("name")).lower() == "type"), {})
    if "work" not in (email_type.get("canonicalValues") or []):
        expect.fail("ENTRA-SCHEMAS-DISCOVERY", 'emails.type canonicalValues including "work"',
                    f"canonicalValues {email_type.get('canonicalValues')!r}", exchange)
    for path in ("/ServiceProviderConfig", "/ResourceTypes"):
        expect.status(scim.get(path), "RFC-DISCOVERY-SCHEMA", 200)


def _walk(scim, endpoint, requirement_id, created_ids):
    """Page through a collection as Microsoft's harness does: startIndex 1, 6, 11, … with count 5."""
    seen: list[str] = []
    start, total = 1, None
    while True:
        # Only ids: on a live tenant the walk passes everyone else's records, which must not land in a report.
        exchange = scim.get(endpoint, params={"startIndex": start, "count": PAGE, "attributes": "id"}, partial=True)
        page = expect.list_response(exchange, requirement_id)
        data = exchange.json
        if data.get("startIndex") != start:
            expect.fail(requirement_id, f"startIndex {start} echoed", f"startIndex {data.get('startIndex')!r}",
                        exchange)
        if len(page) > PAGE:
            expect.fail(requirement_id, f"at most {PAGE} resources per page", f"{len(page)}", exchange)
        total = data.get("totalResults")
        # A numeric string is judged by RFC-LIST-RESPONSE-SCHEMA; the walk only needs the number.
        total = int(total) if isinstance(total, str) and total.isdigit() else total
        seen.extend(r.get("id") for r in page)
        start += len(page)
        if not page or not isinstance(total, int) or start > total or start > 10_000:
            break
    mine = [i for i in seen if i in created_ids]
    if sorted(mine) != sorted(created_ids):
        expect.fail(requirement_id, f"each of the {len(created_ids)} resources this check made exactly once",
                    f"{len(set(mine))} distinct of them in {len(mine)} sightings (totalResults {total})")
    if len(seen) != len(set(seen)):
        expect.fail(requirement_id, "no resource twice across pages", f"{len(seen) - len(set(seen))} repeats")
    if isinstance(total, int) and total != len(seen):
        expect.fail(requirement_id, f"totalResults equal to the resources walked ({len(seen)})", f"{total}")


@requirement("ENTRA-PAGING-USERS")
def test_paging_users(scim, users, identities):
    """With at least 11 users, the harness walks /Users five at a time."""
    created = [users.create(identities.user_body())["id"] for _ in range(11)]
    _walk(scim, "/Users", "ENTRA-PAGING-USERS", created)


@requirement("ENTRA-PAGING-GROUPS")
def test_paging_groups(scim, groups, identities):
    """The same walk over /Groups."""
    created = [groups.create(identities.group_body())["id"] for _ in range(11)]
    _walk(scim, "/Groups", "ENTRA-PAGING-GROUPS", created)


