"""What was sent is verified as stored (issue 22): the read-back comparison, the one non-ASCII person, and error
answers judged by the Error schema whichever check received them."""

from __future__ import annotations

import json

from scim_conformance import judge
from scim_conformance.attributes import ENTERPRISE_USER
from scim_conformance.client import Exchange
from scim_conformance.identities import IdentityFactory
from scim_conformance.profile import load_profile
from scim_conformance.requirements import load_registry
from scim_conformance.results import CheckRecord
from scim_conformance.steps import as_declared, unlike_sent

SENT = {
    "schemas": ["x"], "meta": {"resourceType": "User"}, "password": "secret", "active": True, "roles": [],
    "userName": "Pat@example.com", "name": {"givenName": "Pat", "familyName": "Lee"},
    "emails": [{"type": "work", "value": "pat@example.com", "primary": True}],
    "addresses": [{"type": "work", "locality": "Lyon", "primary": False}],
    ENTERPRISE_USER: {"department": "Sales"},
}


def test_a_read_back_as_sent_shows_no_difference_whatever_the_key_case():
    stored = {"UserName": "Pat@example.com", "name": {"GIVENNAME": "Pat", "familyName": "Lee"}, "active": False,
              "emails": [{"type": "work", "value": "pat@example.com", "primary": True}],
              "addresses": [{"type": "work", "locality": "Lyon"}],  # primary left out reads as false
              ENTERPRISE_USER.lower(): {"department": "Sales"}}
    assert unlike_sent(SENT, stored) == []


def test_names_the_enterprise_object_and_typed_elements_are_compared_value_by_value():
    stored = {"userName": "Pat@example.com", "name": {"givenName": "Pat"},
              "addresses": [{"type": "work", "locality": "Lodz"}], ENTERPRISE_USER: {"department": "sales"}}
    assert unlike_sent(SENT, stored) == [
        "name.familyName: sent 'Lee', read back None",
        "emails[type eq \"work\"]: sent {'type': 'work', 'value': 'pat@example.com', 'primary': True}, read back None",
        "addresses[type eq \"work\"].locality: sent 'Lyon', read back 'Lodz'",
        f"{ENTERPRISE_USER}:department: sent 'Sales', read back 'sales'",
    ]
    assert unlike_sent(SENT, {**stored, "name": None}, lambda path, sent, got: path != "name")[0] == \
        "name: sent {'givenName': 'Pat', 'familyName': 'Lee'}, read back None"


def test_only_one_person_holds_letters_outside_ascii():
    factory = IdentityFactory(load_profile("entra-id"), "scimc1", seed=3)
    body = factory.non_ascii_user_body()
    assert body["name"] == {"givenName": "Zoë", "familyName": "Ærøskøbing", "formatted": "Zoë Ærøskøbing"}
    assert body["addresses"][0]["locality"] == "Łódź" and "Ñandú-Straße" in body["addresses"][0]["streetAddress"]
    assert body["userName"].isascii()
    assert json.dumps(factory.user_body(), ensure_ascii=False).isascii()


def _error(status: object) -> Exchange:
    body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status})
    return Exchange("GET", "http://127.0.0.1/Users/x", "/Users/x", {}, None, status=404,
                    response_headers={"Content-Type": "application/scim+json"}, response_body=body)


def test_the_error_a_failing_check_blames_is_still_judged_by_the_error_schema():
    registry = load_registry()
    record = CheckRecord("n", "n", "s", ["ENTRA-USER-UNKNOWN-404"], outcome="fail",
                         failed_requirements=["ENTRA-USER-UNKNOWN-404"])
    blamed = _error(404)  # status as a number, not the string RFC 7644 §3.12 asks for
    judge.observe(record, [blamed], registry, {"RFC-ERROR-SCHEMA", "ENTRA-USER-UNKNOWN-404"}, skip=blamed)
    assert record.failed_requirements == ["ENTRA-USER-UNKNOWN-404", "RFC-ERROR-SCHEMA"]
    fine = CheckRecord("n", "n", "s", ["ENTRA-USER-UNKNOWN-404"], outcome="fail",
                       failed_requirements=["ENTRA-USER-UNKNOWN-404"])
    judge.observe(fine, [_error("404")], registry, {"RFC-ERROR-SCHEMA"}, skip=None)
    assert fine.failed_requirements == ["ENTRA-USER-UNKNOWN-404"] and fine.observed == ["RFC-ERROR-SCHEMA"]


def test_a_value_declared_case_insensitive_may_come_back_in_another_case():
    sent = {"userName": "Pat@Example.com", "emails": [{"type": "work", "value": "Pat@Example.com"}]}
    stored = {"userName": "pat@example.com", "emails": [{"type": "work", "value": "pat@example.com"}]}
    declared = {"userName": True, 'emails[type eq "work"].value': False}
    assert unlike_sent(sent, stored, as_declared(declared.get)) == [
        "userName: sent 'Pat@Example.com', read back 'pat@example.com'"]
    # Declared nothing: exactly as sent.
    assert len(unlike_sent(sent, stored, as_declared(lambda path: None))) == 2
    # Not declared at all: not this comparison's finding.
    assert unlike_sent(sent, stored, as_declared(lambda path: None, lambda path: False)) == []
