"""What a server declares (/Schemas, /ResourceTypes), read once per run: against the reference server over real
HTTP, and through a proxy that answers 404 to the discovery endpoints, as servers without them do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scim_conformance.attributes import CORE_USER
from scim_conformance.client import ScimClient
from scim_conformance.declared import UNKNOWN, Declared, discover
from scim_conformance.report import html
from scim_conformance.resources import minimal_body, plain_body
from scim_conformance.server import ReferenceServer
from tests.hostile import hostile
from tests.suite_runner import run_suite

TOKEN = "declared-token-5c1e0a"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(token=TOKEN) as running:
        yield running


def test_the_reference_server_declares_its_schemas(server: ReferenceServer) -> None:
    declared = discover(ScimClient(server.base_url, TOKEN))
    assert declared.known and set(declared.types) == {"/Users", "/Groups"}
    for path in ("userName", "name.formatted", 'emails[type eq "work"].value', "Emails[Type eq \"work\"].VALUE",
                 f"{ENTERPRISE}:manager", f"{ENTERPRISE}:manager.value", ENTERPRISE, "externalId", "id"):
        assert declared.declares("/Users", path), path
    for path in ("nickname.value", "name.nickname", "favouriteColour", "urn:ietf:params:scim:schemas:extension:x:2.0:"
                 "User:badge", f"{ENTERPRISE}:badge"):
        assert not declared.declares("/Users", path), path
    assert declared.required_paths("/Users") == ["userName"]
    assert declared.required_paths("/Groups") == ["displayName"]
    # RFC 7643 §2.2: caseExact as declared; members.value is caseExact in the reference schema, userName is not.
    assert declared.case_exact("/Groups", "members.value") is True
    assert declared.case_exact("/Users", "userName") is False
    assert declared.case_exact("/Users", "emails") is False
    assert declared.case_exact("/Users", "favouriteColour") is None
    document = declared.as_dict()
    users = next(t for t in document["resource_types"] if t["endpoint"] == "/Users")
    assert users["extensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert {"path": "name.formatted", "type": "string", "multiValued": False, "required": False,
            "caseExact": False, "mutability": "readWrite", "returned": "default"} in users["attributes"]


def test_a_server_without_schemas_declares_nothing_and_everything_counts(server: ReferenceServer) -> None:
    origin = server.base_url.rsplit("/scim/v2", 1)[0]
    with hostile("proxy", upstream=origin, not_found=("Schemas",)) as proxy:
        declared = discover(ScimClient(proxy.base_url, TOKEN))
    assert not declared.known and declared.reason == "GET /Schemas answered 404"
    assert declared.declares("/Users", "favouriteColour") and declared.required_paths("/Users") == []
    assert declared.case_exact("/Users", "userName") is None
    assert declared.as_dict() == {"known": False, "reason": "GET /Schemas answered 404"}


def test_without_resource_types_the_core_schemas_are_assumed(server: ReferenceServer) -> None:
    origin = server.base_url.rsplit("/scim/v2", 1)[0]
    with hostile("proxy", upstream=origin, not_found=("ResourceTypes",)) as proxy:
        declared = discover(ScimClient(proxy.base_url, TOKEN))
    assert declared.known and set(declared.types) == {"/Users", "/Groups"}
    assert declared.declares("/Users", f"{ENTERPRISE}:department")
    assert "GET /ResourceTypes answered 404" in declared.reason


def test_a_run_keeps_what_was_declared_and_shows_it(tmp_path: Path, server: ReferenceServer) -> None:
    run = run_suite("entra-id", tmp_path, base_url=server.base_url, token=TOKEN,
                    extra=("--requirement", "ENTRA-SCHEMAS-DISCOVERY"))
    declared = run.document["run"]["declared"]
    assert declared["known"] and [t["endpoint"] for t in declared["resource_types"]] == ["/Users", "/Groups"]
    page = next(tmp_path.glob("*.html")).read_text(encoding="utf-8")
    assert 'id="scim-declared"' in page and "What the server declares" in page
    assert "<code>name</code></td><td>complex</td><td>formatted, familyName" in page


def test_a_server_without_schemas_is_run_as_before_and_the_report_says_so(tmp_path: Path,
                                                                          server: ReferenceServer) -> None:
    origin = server.base_url.rsplit("/scim/v2", 1)[0]
    with hostile("proxy", upstream=origin, not_found=("Schemas",)) as proxy:
        run = run_suite("entra-id", tmp_path, base_url=proxy.base_url, token=TOKEN,
                        extra=("--requirement", "ENTRA-USER-CREATE"))
    assert run.document["run"]["declared"] == {"known": False, "reason": "GET /Schemas answered 404"}
    assert "ENTRA-USER-CREATE" in run.outcomes("pass") and not run.failing
    section = html.declared(run.document)
    assert "nothing usable (GET /Schemas answered 404)" in section and "counted as declared" in section


def _declared_by(quirk: str) -> tuple[ReferenceServer, Declared]:
    server = ReferenceServer(token=TOKEN, quirks=(quirk,)).start()
    return server, discover(ScimClient(server.base_url, TOKEN))


def test_fallback_bodies_carry_what_the_server_requires() -> None:
    """A server that requires name.formatted takes the minimal body only once the fit puts it in (issue 22: 98
    requirements were blocked on such a server because the minimal body dropped it)."""
    server, declared = _declared_by("name-formatted-required")
    try:
        assert declared.required_paths("/Users") == ["userName", "name", "name.formatted"]
        client = ScimClient(server.base_url, TOKEN)
        source = {"schemas": [CORE_USER], "userName": "fit-1@example.com",
                  "name": {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"}}
        assert client.post("/Users", minimal_body(source)).status == 400  # the unfitted form is refused
        fitted = declared.fit("/Users", minimal_body(source), source)
        assert fitted["name"] == {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"}
        assert client.post("/Users", fitted).status == 201
        # Without a formatted name in the IdP's body, one is made from the parts.
        bare = {"userName": "fit-2@example.com", "name": {"givenName": "Grace", "familyName": "Hopper"}}
        assert declared.fit("/Users", minimal_body(bare), bare)["name"]["formatted"] == "Grace Hopper"
    finally:
        server.stop()


def test_fallback_bodies_leave_out_what_the_server_does_not_declare() -> None:
    server, declared = _declared_by("no-enterprise-extension")
    server.stop()
    source = {"schemas": [CORE_USER, ENTERPRISE], "userName": "fit-3@example.com", "title": "Chemist",
              ENTERPRISE: {"department": "Research"}, "externalId": "x-3"}
    fitted = declared.fit("/Users", plain_body(source), source)
    assert ENTERPRISE not in fitted and fitted["schemas"] == [CORE_USER]
    assert fitted["title"] == "Chemist"
    assert "externalId" not in fitted  # a common attribute the schema does not list: left out of a fallback body
    assert not declared.declares("/Users", f"{ENTERPRISE}:department") and declared.declares("/Users", "externalId")
    server, declared = _declared_by("core-subset")
    server.stop()
    fitted = declared.fit("/Users", plain_body(source), source)
    assert "title" not in fitted and fitted[ENTERPRISE] == {"department": "Research"}
    assert declared.first("/Users", "title", "nickName", "name.givenName") == "name.givenName"


def test_an_extension_named_by_resource_types_but_not_described_counts_whole() -> None:
    """/ResourceTypes names the enterprise extension, /Schemas leaves it out: nothing is known to be missing."""
    server = ReferenceServer(token=TOKEN, defects=("schemas-missing-extension",)).start()
    try:
        declared = discover(ScimClient(server.base_url, TOKEN))
    finally:
        server.stop()
    assert declared.declares_extension("/Users", ENTERPRISE)
    assert declared.declares("/Users", f"{ENTERPRISE}:costCenter") and declared.declares("/Users", ENTERPRISE)
    assert declared.case_exact("/Users", f"{ENTERPRISE}:costCenter") is None
    source = {"userName": "fit-4@example.com", ENTERPRISE: {"department": "Research"}}
    assert declared.fit("/Users", source, source)[ENTERPRISE] == {"department": "Research"}


def test_a_server_that_declares_nothing_gets_the_body_unchanged() -> None:
    body = {"schemas": [CORE_USER], "userName": "u", "favouriteColour": "teal"}
    assert UNKNOWN.fit("/Users", body, body) is body
