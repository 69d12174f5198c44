"""Discovery and paging, at the level Microsoft's gallery validation asks for."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_GROUP, CORE_USER

requirement = pytest.mark.requirement
PAGE = 5


@requirement("RFC-DISCOVERY-SCHEMA")
def test_discovery_documents(scim):
    """The three discovery endpoints answer, each with its RFC 7643 document (judged on every response)."""
    for path in ("/Schemas", "/ServiceProviderConfig", "/ResourceTypes"):
        exchange = scim.get(path)
        expect.body(expect.status(exchange, "RFC-DISCOVERY-SCHEMA", 200), "RFC-DISCOVERY-SCHEMA")


def _schemas(scim):
    """The schemas /Schemas lists; blocked when the document cannot be read (RFC-DISCOVERY-SCHEMA says why)."""
    exchange = scim.get("/Schemas")
    data = exchange.json
    if exchange.status != 200 or not isinstance(data, dict) or not isinstance(data.get("Resources"), list):
        expect.blocked(f"/Schemas answered {expect.describe(exchange)}")
    return exchange, [s for s in data["Resources"] if isinstance(s, dict)]


@requirement("ENTRA-SCHEMAS-DISCOVERY")
def test_schema_discovery(scim, profile):
    """Gallery apps read /Schemas to offer target attributes: the core User (and Group) schemas are listed."""
    exchange, schemas = _schemas(scim)
    ids = {s.get("id") for s in schemas}
    wanted = {CORE_USER} | ({CORE_GROUP} if profile.groups else set())
    if not wanted <= ids:
        expect.fail("ENTRA-SCHEMAS-DISCOVERY", f"schemas {sorted(wanted)}", f"schemas {sorted(map(str, ids))}",
                    exchange)


@requirement("ENTRA-SCHEMAS-CANONICAL-VALUES")
def test_email_type_canonical_values(scim):
    """Microsoft's gallery harness expands emails by the canonical values of emails.type, expecting work."""
    exchange, schemas = _schemas(scim)
    user = next((s for s in schemas if s.get("id") == CORE_USER), None)
    if user is None:
        expect.blocked(f"/Schemas does not list {CORE_USER} (ENTRA-SCHEMAS-DISCOVERY)")
    emails = next((a for a in user.get("attributes") or [] if isinstance(a, dict)
                   and str(a.get("name")).lower() == "emails"), {})
    email_type = next((a for a in emails.get("subAttributes") or [] if isinstance(a, dict)
                       and str(a.get("name")).lower() == "type"), {})
    if "work" not in (email_type.get("canonicalValues") or []):
        expect.fail("ENTRA-SCHEMAS-CANONICAL-VALUES", 'emails.type canonicalValues including "work"',
                    f"canonicalValues {email_type.get('canonicalValues')!r}", exchange)


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


