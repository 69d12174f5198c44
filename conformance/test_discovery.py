"""Discovery and paging, at the level Microsoft's gallery validation asks for."""

from __future__ import annotations

import pytest

from scim_conformance import expect
from scim_conformance.attributes import CORE_GROUP, CORE_USER
from scim_conformance.steps import walk_pages

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


@requirement("ENTRA-SCHEMAS-MAPPED-ATTRIBUTES")
def test_mapped_attributes_declared(scim, declared, profile):
    """Entra sends every attribute its mappings name, whatever /Schemas says: the server should declare each one."""
    if not declared.known:
        expect.not_applicable(f"the server declares no schema to compare with ({declared.reason})")
    mapped = [("/Users", m.target) for m in profile.user_mappings]
    mapped += [("/Groups", m.target) for m in profile.group_mappings] if profile.groups else []
    missing = [f"{target} ({endpoint[1:]})" for endpoint, target in mapped if not declared.declares(endpoint, target)]
    if missing:
        expect.fail("ENTRA-SCHEMAS-MAPPED-ATTRIBUTES", f"every mapped attribute of profile {profile.name} in /Schemas",
                    f"not declared: {', '.join(missing)}; remove these mappings in Entra, or support them",
                    scim.get("/Schemas"))


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


