"""Unit tests of the reference server's filter and PATCH-path parser and evaluator (no sockets)."""

from __future__ import annotations

import pytest

from scim_conformance.server.defects import Defects
from scim_conformance.server.filters import (
    And,
    AttrPath,
    Compare,
    FilterError,
    Not,
    Or,
    Present,
    ValuePath,
    equality_terms,
    matches,
    parse_filter,
    parse_patch_path,
)
from scim_conformance.server.schemas import CORE_USER, ENTERPRISE_USER, USER_TYPE
from scim_conformance.server.service import ScimService
from scim_conformance.server.store import Store

USER = {
    "id": "a1",
    "externalId": "Ext-1",
    "userName": "Pat.Lee@Example.test",
    "displayName": "Pat Lee",
    "active": True,
    "name": {"givenName": "Pat", "familyName": "Lee"},
    "emails": [
        {"type": "work", "value": "pat@example.test", "primary": True},
        {"type": "home", "value": "pat@home.test"},
    ],
    "roles": [{"value": "Admin", "primary": True}],
    "meta": {"lastModified": "2026-01-02T03:04:05Z"},
    ENTERPRISE_USER: {"employeeNumber": "E-7", "manager": {"value": "m9"}},
}


@pytest.fixture(scope="module")
def service():
    store = Store()
    yield ScimService(store, Defects(), "t", "http://x/scim/v2")
    store.close()


def check(service: ScimService, text: str, resource: dict = USER) -> bool:
    return matches(service.compile_filter(USER_TYPE, text), resource, CORE_USER)


def test_parse_builds_the_tree_with_rfc_precedence() -> None:
    node = parse_filter('a pr or b eq "x" and not (c eq 1)')
    assert isinstance(node, Or)
    assert isinstance(node.left, Present)
    assert isinstance(node.right, And)
    assert isinstance(node.right.right, Not)
    assert node.right.right.expr == Compare(AttrPath(None, "c"), "eq", 1)


def test_parse_reads_operators_and_keywords_in_any_case() -> None:
    node = parse_filter('userName EQ "x" AND Active Eq TRUE')
    assert isinstance(node, And)
    assert node.left.op == "eq"
    assert node.right.value is True


def test_parse_urn_qualified_and_dotted_paths() -> None:
    node = parse_filter(f'{ENTERPRISE_USER}:manager.value eq "m9"')
    assert node.path == AttrPath(ENTERPRISE_USER, "manager", "value")
    assert parse_filter('name.familyName sw "L"').path == AttrPath(None, "name", "familyName")


def test_parse_the_entra_value_path_with_trailing_comparison() -> None:
    node = parse_filter('emails[type eq "work"].value eq "x@y"')
    assert isinstance(node, ValuePath)
    assert node.then == Compare(AttrPath(None, "value"), "eq", "x@y")


@pytest.mark.parametrize(
    "literal, expected",
    [('"a\\"b"', 'a"b'), ("true", True), ("False", False), ("null", None), ("42", 42), ("-1.5", -1.5)],
)
def test_parse_literals(literal: str, expected: object) -> None:
    assert parse_filter(f"x eq {literal}").value == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "userName",
        "userName eq",
        'userName eq "unterminated',
        'userName like "x"',
        'userName eq "x" extra',
        "(userName pr",
        'emails[type eq "work"',
        'emails[type eq "work"]x',
        "userName eq unquoted",
        'userName+eq+"x"',
        'name.given.family eq "x"',
        'not userName eq "x"',
    ],
)
def test_parse_rejects_malformed_filters(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('userName eq "pat.lee@example.test"', True),  # userName is caseExact false
        ('USERNAME eq "PAT.LEE@EXAMPLE.TEST"', True),
        ('externalId eq "ext-1"', False),  # externalId is caseExact
        ('externalId eq "Ext-1"', True),
        ('id eq "A1"', False),
        ('displayName co "at L"', True),
        ('userName sw "pat."', True),
        ('userName ew ".TEST"', True),
        ('userName ne "other"', True),
        ('title pr', False),
        ('name.familyName eq "lee"', True),
        ('emails[type eq "work" and primary eq true]', True),
        ('emails[type eq "other"]', False),
        ('emails[type eq "work"].value eq "PAT@example.test"', True),
        ('emails[type eq "home"].value eq "pat@example.test"', False),
        ('emails.value eq "pat@home.test"', True),
        ('emails eq "pat@home.test"', True),
        ('roles[primary eq "True"]', True),  # Entra compares a boolean with the string "True"
        ('active eq "true"', True),
        ('active eq false', False),
        (f'{ENTERPRISE_USER}:employeeNumber eq "E-7"', True),
        (f'{ENTERPRISE_USER}:manager.value eq "m9"', True),
        (f'{CORE_USER}:userName eq "pat.lee@example.test"', True),
        ('meta.lastModified gt "2026-01-01T00:00:00Z"', True),
        ('meta.lastModified lt "2026-01-01T00:00:00Z"', False),
        ('userName eq "x" or (displayName eq "pat lee" and not (active eq false))', True),
        ('manager eq "m9"', True),  # unqualified extension attribute, as Entra's old lookup writes it
        ('id eq "a1" and manager eq "m8"', False),
        ('employeeNumber eq "e-7"', True),
        ("title eq null", True),
        ("userName ne null", True),
    ],
)
def test_evaluate(service: ScimService, text: str, expected: bool) -> None:
    assert check(service, text) is expected


def test_greater_than_needs_an_orderable_value(service: ScimService) -> None:
    with pytest.raises(Exception, match="invalid filter"):
        service.compile_filter(USER_TYPE, "active gt true")


def test_members_eq_compares_member_values() -> None:
    group = {"members": [{"value": "u1"}, {"value": "u2"}]}
    assert matches(parse_filter('members eq "u2"'), group)
    assert not matches(parse_filter('members eq "u3"'), group)


@pytest.mark.parametrize(
    "text, urn, attr, sub",
    [
        ("displayName", None, "displayName", None),
        ("name.givenName", None, "name", "givenName"),
        (f"{ENTERPRISE_USER}:employeeNumber", ENTERPRISE_USER, "employeeNumber", None),
        (f"{ENTERPRISE_USER}:manager", ENTERPRISE_USER, "manager", None),
        ('emails[type eq "work"].value', None, "emails", "value"),
        ('emails[type eq "other"].Value', None, "emails", "Value"),
        ('members[value eq "a]b"]', None, "members", None),
    ],
)
def test_parse_patch_paths(text: str, urn: str | None, attr: str, sub: str | None) -> None:
    path = parse_patch_path(text)
    assert (path.urn, path.attr, path.sub) == (urn, attr, sub)


@pytest.mark.parametrize("text", ["", "emails[type eq", 'emails[type eq "w"]value', "a..b", 'name.x[type eq "w"]'])
def test_parse_patch_path_rejects_garbage(text: str) -> None:
    with pytest.raises(FilterError):
        parse_patch_path(text)


def test_equality_terms_describe_the_element_to_create() -> None:
    node = parse_patch_path('emails[type eq "home" and primary eq true]').filter
    assert equality_terms(node) == {"type": "home", "primary": True}
    assert equality_terms(parse_filter('type eq "a" or type eq "b"')) == {}
