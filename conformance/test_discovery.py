"""Discovery and paging, at the level Microsoft's gallery validation asks for."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_GROUP, CORE_USER
from scim_conformance.steps import walk_pages

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


@requirement("ENTRA-PAGING-USERS")
def test_paging_users(scim, users, identities):
    """With at least 11 users, Microsoft's harness walks /Users five at a time (startIndex 1, 6, 11, …)."""
    created = [users.create(identities.user_body())["id"] for _ in range(11)]
    walk_pages(scim, "/Users", "ENTRA-PAGING-USERS", created, PAGE)


@requirement("ENTRA-PAGING-GROUPS")
def test_paging_groups(scim, groups, identities):
    """The same walk over /Groups."""
    created = [groups.create(identities.group_body())["id"] for _ in range(11)]
    walk_pages(scim, "/Groups", "ENTRA-PAGING-GROUPS", created, PAGE)


