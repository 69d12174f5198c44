"""The message schemas and the validator: the schemas are sound, RFC-shaped messages pass, and each kind of
departure is reported once, at the JSON path where it happens."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from scim_conformance import schemas
from scim_conformance.paths import schemas_dir
from scim_conformance.schemas import (
    MESSAGE_KINDS,
    MISSING,
    NOT_AN_OBJECT,
    REDACTED,
    Violation,
    expected_kind,
    validate,
    validate_response,
)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BASE = "https://example.com/v2"

# --- samples shaped like the RFC's examples -----------------------------------------------------------

# Shaped after the full enterprise user of RFC 7643 §8.3 (the §8.2 full user plus the extension).
FULL_USER: dict[str, Any] = {
    "schemas": [USER_URN, ENTERPRISE],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "701984",
    "userName": "bjensen@example.com",
    "name": {
        "formatted": "Ms. Barbara J Jensen, III",
        "familyName": "Jensen",
        "givenName": "Barbara",
        "middleName": "Jane",
        "honorificPrefix": "Ms.",
        "honorificSuffix": "III",
    },
    "displayName": "Babs Jensen",
    "nickName": "Babs",
    "profileUrl": "https://login.example.com/bjensen",
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "addresses": [
        {
            "type": "work",
            "streetAddress": "100 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "USA",
            "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
            "primary": True,
        },
        {
            "type": "home",
            "streetAddress": "456 Hollywood Blvd",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "USA",
            "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA",
        },
    ],
    "phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
    "userType": "Employee",
    "title": "Tour Guide",
    "preferredLanguage": "en-US",
    "locale": "en-US",
    "timezone": "America/Los_Angeles",
    "active": True,
    "groups": [
        {
            "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "$ref": f"{BASE}/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
            "display": "Tour Guides",
        },
    ],
    "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
    ENTERPRISE: {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
        "manager": {
            "value": "26118915-6090-4610-87e4-49d8ca9f808d",
            "$ref": f"{BASE}/Users/26118915-6090-4610-87e4-49d8ca9f808d",
            "displayName": "John Smith",
        },
    },
    "meta": {
        "resourceType": "User",
        "created": "2010-01-23T04:56:22Z",
        "lastModified": "2011-05-13T04:42:34Z",
        "version": 'W/"3694e05e9dff591"',
        "location": f"{BASE}/Users/2819c223-7f76-453a-919d-413861904646",
    },
}

# RFC 7643 §8.1's minimal user.
MINIMAL_USER: dict[str, Any] = {
    "schemas": [USER_URN],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "userName": "bjensen@example.com",
    "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"},
}

# Shaped after RFC 7643 §8.4.
GROUP: dict[str, Any] = {
    "schemas": [GROUP_URN],
    "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
    "displayName": "Tour Guides",
    "members": [
        {
            "value": "2819c223-7f76-453a-919d-413861904646",
            "$ref": f"{BASE}/Users/2819c223-7f76-453a-919d-413861904646",
            "display": "Babs Jensen",
        },
        {
            "value": "902c246b-6245-4190-8e05-00816be7344a",
            "$ref": f"{BASE}/Users/902c246b-6245-4190-8e05-00816be7344a",
            "display": "Mandy Pepperidge",
            "type": "User",
        },
    ],
    "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z", "version": 'W/"3694e05e9dff592"'},
}

# Shaped after the filtered query response of RFC 7644 §3.4.2.
LIST_RESPONSE: dict[str, Any] = {
    "schemas": [LIST_URN],
    "totalResults": 2,
    "itemsPerPage": 10,
    "startIndex": 1,
    "Resources": [
        {"schemas": [USER_URN], "id": "2819c223-7f76-453a-919d-413861904646", "userName": "bjensen"},
        {"schemas": [USER_URN], "id": "c75ad752-64ae-4823-840d-ffa80929976c", "userName": "jsmith"},
    ],
}

EMPTY_LIST: dict[str, Any] = {"schemas": [LIST_URN], "totalResults": 0, "Resources": []}

# Shaped after RFC 7644 §3.12.
ERROR: dict[str, Any] = {"schemas": [ERROR_URN], "detail": "Resource 2819c223 not found", "status": "404"}
ERROR_400: dict[str, Any] = {
    "schemas": [ERROR_URN],
    "scimType": "mutability",
    "detail": "Attribute 'id' is readOnly",
    "status": "400",
}

# The casing and shape Entra ID sends, next to RFC 7644 §3.5.2's own forms.
PATCH: dict[str, Any] = {
    "schemas": [PATCH_URN],
    "Operations": [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "add", "value": {"displayName": "Babs"}},
        {"op": "remove", "path": 'members[value eq "2819c223-7f76-453a-919d-413861904646"]'},
        {"op": "Add", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}]},
    ],
}

# Shaped after RFC 7643 §8.5.
SERVICE_PROVIDER_CONFIG: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "documentationUri": "https://example.com/help/scim.html",
    "patch": {"supported": True},
    "bulk": {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576},
    "filter": {"supported": True, "maxResults": 200},
    "changePassword": {"supported": True},
    "sort": {"supported": True},
    "etag": {"supported": True},
    "authenticationSchemes": [
        {
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "documentationUri": "https://example.com/help/oauth.html",
            "type": "oauthbearertoken",
            "primary": True,
        },
    ],
    "meta": {"location": f"{BASE}/ServiceProviderConfig", "resourceType": "ServiceProviderConfig"},
}

# Shaped after RFC 7643 §8.6.
RESOURCE_TYPE: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    "id": "User",
    "name": "User",
    "endpoint": "/Users",
    "description": "User Account",
    "schema": USER_URN,
    "schemaExtensions": [{"schema": ENTERPRISE, "required": True}],
    "meta": {"location": f"{BASE}/ResourceTypes/User", "resourceType": "ResourceType"},
}

# A slice of RFC 7643 §8.7.1's User schema: a simple attribute and a complex one with sub-attributes.
SCHEMA: dict[str, Any] = {
    "id": USER_URN,
    "name": "User",
    "description": "User Account",
    "attributes": [
        {
            "name": "userName",
            "type": "string",
            "multiValued": False,
            "description": "Unique identifier for the User.",
            "required": True,
            "caseExact": False,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "server",
        },
        {
            "name": "emails",
            "type": "complex",
            "multiValued": True,
            "description": "Email addresses for the user.",
            "required": False,
            "subAttributes": [
                {
                    "name": "value",
                    "type": "string",
                    "multiValued": False,
                    "required": False,
                    "caseExact": False,
                    "mutability": "readWrite",
                    "returned": "default",
                    "uniqueness": "none",
                },
                {
                    "name": "type",
                    "type": "string",
                    "multiValued": False,
                    "required": False,
                    "canonicalValues": ["work", "home", "other"],
                    "caseExact": False,
                    "mutability": "readWrite",
                    "returned": "default",
                    "uniqueness": "none",
                },
            ],
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "none",
        },
        {
            "name": "groups",
            "type": "complex",
            "multiValued": True,
            "mutability": "readOnly",
            "returned": "default",
            "subAttributes": [
                {
                    "name": "$ref",
                    "type": "reference",
                    "referenceTypes": ["User", "Group"],
                    "multiValued": False,
                    "mutability": "readOnly",
                },
            ],
        },
    ],
    "meta": {"resourceType": "Schema", "location": f"{BASE}/Schemas/{USER_URN}"},
}

ENTERPRISE_USER: dict[str, Any] = FULL_USER[ENTERPRISE]

GOOD: dict[str, list[dict[str, Any]]] = {
    "User": [FULL_USER, MINIMAL_USER],
    "EnterpriseUser": [ENTERPRISE_USER],
    "Group": [GROUP],
    "ListResponse": [LIST_RESPONSE, EMPTY_LIST],
    "PatchOp": [PATCH],
    "Error": [ERROR, ERROR_400],
    "ServiceProviderConfig": [SERVICE_PROVIDER_CONFIG],
    "ResourceType": [RESOURCE_TYPE],
    "Schema": [SCHEMA],
}


def _schema_files() -> list[Path]:
    return sorted(schemas_dir().glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


# --- the schema files themselves ------------------------------------------------------------------------


def test_there_is_a_schema_file_for_every_message_kind() -> None:
    stems = {path.stem for path in _schema_files()}
    assert stems - {"Common"} == set(MESSAGE_KINDS)


@pytest.mark.parametrize("path", _schema_files(), ids=lambda path: path.name)
def test_schema_file_is_valid_against_the_2020_12_metaschema(path: Path) -> None:
    schema = _load(path)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_ids_are_unique_and_follow_the_file_names() -> None:
    ids = [_load(path).get("$id") for path in _schema_files()]
    assert len(ids) == len(set(ids))
    assert ids == [f"{schemas.SCHEMA_BASE}{path.name}" for path in _schema_files()]


@pytest.mark.parametrize("path", _schema_files(), ids=lambda path: path.name)
def test_every_ref_resolves_in_the_registry(path: Path) -> None:
    schema = _load(path)
    resolver = schemas._registry().resolver(base_uri=schema["$id"])
    refs = list(_refs(schema))
    for ref in refs:
        resolver.lookup(ref)  # raises on a dangling reference
    if path.stem != "Common":
        assert refs, "every message schema shares the building blocks of Common.json or its own $defs"


# --- RFC-shaped messages pass ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body"),
    [(kind, body) for kind, bodies in GOOD.items() for body in bodies],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_rfc_shaped_message_validates_clean(kind: str, body: dict[str, Any]) -> None:
    assert validate(kind, body) == []


def test_unknown_attributes_and_extensions_are_tolerated() -> None:
    user = copy.deepcopy(MINIMAL_USER)
    user["urn:example:params:scim:schemas:extension:acme:2.0:User"] = {"badge": 42}
    user["schemas"].append("urn:example:params:scim:schemas:extension:acme:2.0:User")
    user["emails"] = [{"value": "b@example.com", "type": "work", "verified": True}]
    user["lastLogin"] = 1700000000
    assert validate("User", user) == []


def test_null_means_unassigned_in_resources() -> None:
    user = copy.deepcopy(MINIMAL_USER)
    user |= {"nickName": None, "active": None, "emails": None, "name": {"givenName": None}, ENTERPRISE: None}
    assert validate("User", user) == []


def test_null_means_unassigned_in_discovery_documents_and_errors() -> None:
    """RFC 7643 §2.5 holds for every optional property: `"documentationUri": null` is no violation."""
    schema = copy.deepcopy(SCHEMA)
    for attribute in schema["attributes"]:
        attribute |= {"description": None, "canonicalValues": None, "referenceTypes": None, "returned": None}
    schema |= {"description": None, "x-vendor-note": None}
    config = copy.deepcopy(SERVICE_PROVIDER_CONFIG) | {"documentationUri": None}
    config["authenticationSchemes"][0] |= {"specUri": None, "documentationUri": None}
    resource_type = copy.deepcopy(RESOURCE_TYPE) | {"description": None, "schemaExtensions": None}
    error = copy.deepcopy(ERROR) | {"scimType": None, "detail": None}
    empty = {"schemas": [LIST_URN], "totalResults": 0, "Resources": None, "startIndex": None}
    found = [validate(kind, body) for kind, body in (("Schema", schema), ("ServiceProviderConfig", config),
             ("ResourceType", resource_type), ("Error", error), ("ListResponse", empty))]
    assert found == [[], [], [], [], []]
    # Null never stands in for a value the RFC requires.
    assert [v.json_path for v in validate("ListResponse", {**empty, "totalResults": 2})] == ["$.Resources"]


def test_an_unknown_message_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="Users"):
        validate("Users", MINIMAL_USER)


# --- each departure is reported once, where it is -----------------------------------------------------


def _set(path: list[str | int], value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        node: Any = body
        for segment in path[:-1]:
            node = node[segment]
        node[path[-1]] = value

    return mutate


def _drop(path: list[str | int]) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        node: Any = body
        for segment in path[:-1]:
            node = node[segment]
        del node[path[-1]]

    return mutate


MUTATIONS: list[tuple[str, str, dict[str, Any], Callable[[dict[str, Any]], None], str, str]] = [
    # (test id, kind, good sample, mutation, expected path, expected part of the reason)
    ("primary-as-string", "User", FULL_USER, _set(["emails", 0, "primary"], "True"),
     "$.emails[0].primary", "is not of type boolean"),
    ("active-as-string", "User", FULL_USER, _set(["active"], "true"), "$.active", "is not of type boolean"),
    ("password-returned", "User", FULL_USER, _set(["password"], "t1meMa$heen"), "$.password", "never"),
    ("userName-missing", "User", FULL_USER, _drop(["userName"]), "$.userName", MISSING),
    ("id-missing", "User", MINIMAL_USER, _drop(["id"]), "$.id", MISSING),
    ("id-as-number", "User", FULL_USER, _set(["id"], 2819), "$.id", "is not of type string"),
    ("userName-null", "User", FULL_USER, _set(["userName"], None), "$.userName", "is not of type string"),
    ("core-urn-missing", "User", FULL_USER, _set(["schemas"], [ENTERPRISE]), "$.schemas", USER_URN),
    ("schemas-duplicated", "User", MINIMAL_USER, _set(["schemas"], [USER_URN, USER_URN]),
     "$.schemas", "duplicate"),
    ("two-primary-emails", "User", FULL_USER, _set(["emails", 1, "primary"], True), "$.emails", "primary"),
    ("emails-not-array", "User", FULL_USER, _set(["emails"], {"value": "b@example.com"}),
     "$.emails", "is not of type array"),
    ("email-type-number", "User", FULL_USER, _set(["emails", 0, "type"], 1), "$.emails[0].type", "string"),
    ("address-country-number", "User", FULL_USER, _set(["addresses", 1, "country"], 840),
     "$.addresses[1].country", "string"),
    ("name-as-string", "User", FULL_USER, _set(["name"], "Babs"), "$.name", "is not of type object"),
    ("created-not-datetime", "User", FULL_USER, _set(["meta", "created"], "23 Jan 2010"),
     "$.meta.created", "xsd:dateTime"),
    ("manager-value-number", "User", FULL_USER, _set([ENTERPRISE, "manager", "value"], 26118915),
     f'$["{ENTERPRISE}"].manager.value', "is not of type string"),
    ("employeeNumber-number", "User", FULL_USER, _set([ENTERPRISE, "employeeNumber"], 701984),
     f'$["{ENTERPRISE}"].employeeNumber', "is not of type string"),
    ("extension-as-string", "User", FULL_USER, _set([ENTERPRISE], "Tour Operations"),
     f'$["{ENTERPRISE}"]', "is not of type object"),
    ("ext-manager-ref-number", "EnterpriseUser", ENTERPRISE_USER, _set(["manager", "$ref"], 1),
     '$.manager["$ref"]', "string"),
    ("group-displayName-missing", "Group", GROUP, _drop(["displayName"]), "$.displayName", MISSING),
    ("member-value-number", "Group", GROUP, _set(["members", 0, "value"], 5),
     "$.members[0].value", "is not of type string"),
    ("member-ref-number", "Group", GROUP, _set(["members", 1, "$ref"], 5), '$.members[1]["$ref"]', "string"),
    ("group-urn-missing", "Group", GROUP, _set(["schemas"], [USER_URN]), "$.schemas", GROUP_URN),
    ("totalResults-missing", "ListResponse", LIST_RESPONSE, _drop(["totalResults"]),
     "$.totalResults", MISSING),
    ("totalResults-negative", "ListResponse", EMPTY_LIST, _set(["totalResults"], -1),
     "$.totalResults", "less than 0"),
    ("totalResults-string", "ListResponse", LIST_RESPONSE, _set(["totalResults"], "2"),
     "$.totalResults", "is not of type integer"),
    ("Resources-missing", "ListResponse", LIST_RESPONSE, _drop(["Resources"]), "$.Resources", MISSING),
    ("Resources-object", "ListResponse", LIST_RESPONSE, _set(["Resources"], {}), "$.Resources", "array"),
    ("startIndex-zero", "ListResponse", LIST_RESPONSE, _set(["startIndex"], 0),
     "$.startIndex", "less than 1"),
    ("list-urn-missing", "ListResponse", LIST_RESPONSE, _set(["schemas"], [USER_URN]), "$.schemas", LIST_URN),
    ("status-number", "Error", ERROR, _set(["status"], 404), "$.status", "is not of type string"),
    ("status-not-a-code", "Error", ERROR, _set(["status"], "Not Found"), "$.status", "three digits"),
    ("status-missing", "Error", ERROR, _drop(["status"]), "$.status", MISSING),
    ("scimType-unknown", "Error", ERROR_400, _set(["scimType"], "badRequest"), "$.scimType", "invalidFilter"),
    ("detail-number", "Error", ERROR, _set(["detail"], 404), "$.detail", "is not of type string"),
    ("error-urn-missing", "Error", ERROR, _set(["schemas"], [LIST_URN]), "$.schemas", ERROR_URN),
    ("op-unknown", "PatchOp", PATCH, _set(["Operations", 0, "op"], "delete"), "$.Operations[0].op", "remove"),
    ("remove-without-path", "PatchOp", PATCH, _drop(["Operations", 2, "path"]),
     "$.Operations[2].path", MISSING),
    ("add-without-value", "PatchOp", PATCH, _drop(["Operations", 3, "value"]),
     "$.Operations[3].value", MISSING),
    ("add-pathless-scalar", "PatchOp", PATCH, _set(["Operations", 1, "value"], "Babs"),
     "$.Operations[1].value", "object"),
    ("operations-empty", "PatchOp", PATCH, _set(["Operations"], []), "$.Operations", "fewer than 1"),
    ("op-missing", "PatchOp", PATCH, _drop(["Operations", 0, "op"]), "$.Operations[0].op", MISSING),
    ("patch-supported-string", "ServiceProviderConfig", SERVICE_PROVIDER_CONFIG,
     _set(["patch", "supported"], "true"), "$.patch.supported", "is not of type boolean"),
    ("bulk-maxOperations-missing", "ServiceProviderConfig", SERVICE_PROVIDER_CONFIG,
     _drop(["bulk", "maxOperations"]), "$.bulk.maxOperations", MISSING),
    ("etag-missing", "ServiceProviderConfig", SERVICE_PROVIDER_CONFIG, _drop(["etag"]), "$.etag", MISSING),
    ("auth-scheme-name-missing", "ServiceProviderConfig", SERVICE_PROVIDER_CONFIG,
     _drop(["authenticationSchemes", 0, "name"]), "$.authenticationSchemes[0].name", MISSING),
    ("extension-required-string", "ResourceType", RESOURCE_TYPE,
     _set(["schemaExtensions", 0, "required"], "true"), "$.schemaExtensions[0].required", "boolean"),
    ("endpoint-missing", "ResourceType", RESOURCE_TYPE, _drop(["endpoint"]), "$.endpoint", MISSING),
    ("schema-multiValued-null", "Schema", SCHEMA, _set(["attributes", 0, "multiValued"], None),
     "$.attributes[0].multiValued", "is not of type boolean"),
    ("spc-bulk-missing", "ServiceProviderConfig", SERVICE_PROVIDER_CONFIG, _drop(["bulk"]), "$.bulk", MISSING),
    ("schema-top-null", "Schema", SCHEMA, _set(["schemas"], None), "$.schemas", "is not of type array"),
    ("schema-mutability-case", "Schema", SCHEMA, _set(["attributes", 0, "mutability"], "ReadWrite"),
     "$.attributes[0].mutability", "readOnly"),
    ("schema-type-case", "Schema", SCHEMA, _set(["attributes", 1, "subAttributes", 1, "type"], "String"),
     "$.attributes[1].subAttributes[1].type", "dateTime"),
    ("schema-multiValued-missing", "Schema", SCHEMA, _drop(["attributes", 2, "multiValued"]),
     "$.attributes[2].multiValued", MISSING),
    ("schema-caseExact-string", "Schema", SCHEMA, _set(["attributes", 0, "caseExact"], "false"),
     "$.attributes[0].caseExact", "boolean"),
]


@pytest.mark.parametrize(
    ("kind", "good", "mutate", "path", "reason"),
    [case[1:] for case in MUTATIONS],
    ids=[case[0] for case in MUTATIONS],
)
def test_each_departure_is_one_violation_at_its_path(
    kind: str, good: dict[str, Any], mutate: Callable[[dict[str, Any]], None], path: str, reason: str
) -> None:
    body = copy.deepcopy(good)
    mutate(body)
    violations = validate(kind, body)
    assert [(v.message_kind, v.json_path) for v in violations] == [(kind, path)], violations
    assert reason in violations[0].reason


def test_violation_reads_as_path_value_reason() -> None:
    body = copy.deepcopy(FULL_USER)
    body["emails"][0]["primary"] = "True"
    (violation,) = validate("User", body)
    assert violation == Violation("User", "$.emails[0].primary", "True", "is not of type boolean")
    assert str(violation) == '$.emails[0].primary: "True" is not of type boolean'


def test_missing_member_reads_without_a_value() -> None:
    (violation,) = validate("ListResponse", {"schemas": [LIST_URN]})
    assert violation.value is None
    assert str(violation) == "$.totalResults: is required but missing"


def test_a_returned_password_is_reported_without_its_value() -> None:
    body = copy.deepcopy(MINIMAL_USER) | {"password": "t1meMa$heen"}
    (violation,) = validate("User", body)
    assert violation.value == REDACTED
    assert "t1meMa$heen" not in str(violation)


def test_several_missing_members_are_each_reported_once() -> None:
    violations = validate("User", {"schemas": [USER_URN]})
    assert [v.json_path for v in violations] == ["$.id", "$.userName"]


def test_violations_come_in_document_order_of_indexes() -> None:
    body = copy.deepcopy(MINIMAL_USER)
    body["emails"] = [{"value": "a@example.com"} for _ in range(12)]
    body["emails"][10]["primary"] = "yes"
    body["emails"][2]["primary"] = "no"
    assert [v.json_path for v in validate("User", body)] == ["$.emails[2].primary", "$.emails[10].primary"]


@pytest.mark.parametrize("body", [[MINIMAL_USER], "<html>oops</html>", 42, None])
def test_a_body_that_is_not_an_object_is_one_violation_at_the_root(body: object) -> None:
    assert validate("User", body) == [Violation("User", "$", body, NOT_AN_OBJECT)]


def test_partial_representation_skips_required_but_keeps_types() -> None:
    body = {"id": "2819c223", "emails": [{"value": "b@example.com", "primary": "True"}]}
    assert [v.json_path for v in validate("User", body)] == ["$.emails[0].primary", "$.schemas", "$.userName"]
    assert [v.json_path for v in validate("User", body, partial=True)] == ["$.emails[0].primary"]


def test_validators_are_compiled_once() -> None:
    assert schemas._validator("User", False) is schemas._validator("User", False)
    assert schemas._validator("User", True) is not schemas._validator("User", False)


# --- validate_response chooses the schema from the request --------------------------------------------

USER_ID = "2819c223-7f76-453a-919d-413861904646"


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/Users", 200, "ListResponse of User"),
        ("GET", "/Users?filter=userName eq \"bjensen\"", 200, "ListResponse of User"),
        ("get", "/users/", 200, "ListResponse of User"),
        ("POST", "/Users/.search", 200, "ListResponse of User"),
        ("POST", "/Users", 201, "User"),
        ("GET", f"/Users/{USER_ID}", 200, "User"),
        ("PUT", f"/Users/{USER_ID}", 200, "User"),
        ("PATCH", f"/Users/{USER_ID}", 200, "User"),
        ("PATCH", f"/Users/{USER_ID}", 204, None),
        ("DELETE", f"/Users/{USER_ID}", 204, None),
        ("DELETE", f"/Users/{USER_ID}", 200, None),
        ("GET", "/Groups", 200, "ListResponse of Group"),
        ("POST", "/Groups", 201, "Group"),
        ("PATCH", "/Groups/e9e30dba", 200, "Group"),
        ("GET", "/Me", 200, "User"),
        ("GET", "/Schemas", 200, "ListResponse of Schema"),
        ("GET", f"/Schemas/{USER_URN}", 200, "Schema"),
        ("GET", "/ResourceTypes", 200, "ListResponse of ResourceType"),
        ("GET", "/ResourceTypes/User", 200, "ResourceType"),
        ("GET", "/ServiceProviderConfig", 200, "ServiceProviderConfig"),
        ("GET", "/", 200, "ListResponse of *"),
        ("POST", "/.search", 200, "ListResponse of *"),
        ("POST", "/Bulk", 200, None),
        ("GET", "/Devices/1", 200, None),
        ("GET", f"/Users/{USER_ID}", 404, "Error"),
        ("POST", "/Users", 409, "Error"),
        ("GET", "/Users", 500, "Error"),
        ("GET", "/Users", 302, None),
    ],
)
def test_expected_kind_follows_method_path_and_status(method: str, path: str, status: int, kind: str) -> None:
    assert expected_kind(method, path, status) == kind


def _kinds(violations: list[Violation]) -> set[str]:
    return {v.message_kind for v in violations}


@pytest.mark.parametrize(
    ("method", "path", "status", "kind", "missing"),
    [
        ("GET", "/Users", 200, "ListResponse", "$.totalResults"),
        ("GET", f"/Users/{USER_ID}", 200, "User", "$.userName"),
        ("POST", "/Users", 201, "User", "$.userName"),
        ("PUT", "/Groups/e9e30dba", 200, "Group", "$.displayName"),
        ("GET", f"/Schemas/{USER_URN}", 200, "Schema", "$.attributes"),
        ("GET", "/ResourceTypes/User", 200, "ResourceType", "$.endpoint"),
        ("GET", "/ServiceProviderConfig", 200, "ServiceProviderConfig", "$.etag"),
        ("GET", f"/Users/{USER_ID}", 404, "Error", "$.status"),
        ("PATCH", "/Groups/e9e30dba", 400, "Error", "$.status"),
    ],
)
def test_validate_response_applies_the_expected_schema(
    method: str, path: str, status: int, kind: str, missing: str
) -> None:
    violations = validate_response(method, path, status, {"schemas": []})
    assert _kinds(violations) == {kind}
    assert missing in [v.json_path for v in violations if v.reason == MISSING]


def test_list_items_are_checked_as_the_queried_type_with_paths_from_the_top() -> None:
    body = copy.deepcopy(LIST_RESPONSE)
    body["Resources"][1]["active"] = "True"
    (violation,) = validate_response("GET", "/Users", 200, body)
    found = (violation.message_kind, violation.json_path, violation.value)
    assert found == ("User", "$.Resources[1].active", "True")


def test_group_list_items_are_checked_as_groups() -> None:
    body = {"schemas": [LIST_URN], "totalResults": 1, "Resources": [copy.deepcopy(GROUP)]}
    assert validate_response("GET", "/Groups", 200, body) == []
    del body["Resources"][0]["displayName"]
    assert [(v.message_kind, v.json_path) for v in validate_response("GET", "/Groups", 200, body)] == [
        ("Group", "$.Resources[0].displayName")
    ]


def test_discovery_lists_are_checked_item_by_item() -> None:
    schema = copy.deepcopy(SCHEMA)
    schema["attributes"][0]["returned"] = "sometimes"
    body = {"schemas": [LIST_URN], "totalResults": 1, "Resources": [schema]}
    (violation,) = validate_response("GET", "/Schemas", 200, body)
    found = (violation.message_kind, violation.json_path)
    assert found == ("Schema", "$.Resources[0].attributes[0].returned")
    resource_types = {"schemas": [LIST_URN], "totalResults": 1, "Resources": [RESOURCE_TYPE]}
    assert validate_response("GET", "/ResourceTypes", 200, resource_types) == []
    resource_types["Resources"] = [{**RESOURCE_TYPE, "schema": 7}]
    assert [v.json_path for v in validate_response("GET", "/ResourceTypes", 200, resource_types)] == [
        "$.Resources[0].schema"
    ]


def test_a_query_across_types_checks_each_item_by_its_schemas() -> None:
    user = copy.deepcopy(MINIMAL_USER) | {"active": "True"}
    group = {k: v for k, v in GROUP.items() if k != "displayName"}
    other = {"schemas": ["urn:example:Device"], "id": "d1", "active": "maybe"}
    body = {"schemas": [LIST_URN], "totalResults": 3, "Resources": [user, group, other]}
    violations = validate_response("POST", "/.search", 200, body)
    assert [(v.message_kind, v.json_path) for v in violations] == [
        ("User", "$.Resources[0].active"),
        ("Group", "$.Resources[1].displayName"),
    ]


def test_partial_relaxes_the_items_but_not_the_envelope() -> None:
    body = {"schemas": [LIST_URN], "Resources": [{"id": "2819c223"}]}
    violations = validate_response("GET", "/Users", 200, body, partial=True)
    assert [(v.message_kind, v.json_path) for v in violations] == [("ListResponse", "$.totalResults")]
    strict = validate_response("GET", "/Users", 200, body)
    assert ("User", "$.Resources[0].userName") in [(v.message_kind, v.json_path) for v in strict]


def test_partial_by_id_response() -> None:
    body = {"id": USER_ID, "displayName": "Babs"}
    assert validate_response("GET", f"/Users/{USER_ID}", 200, body, partial=True) == []
    assert validate_response("GET", f"/Users/{USER_ID}", 200, body) != []


@pytest.mark.parametrize(
    ("status", "body"),
    [(204, None), (204, {"anything": 1}), (200, None), (200, ""), (200, b""), (201, "  "), (404, None)],
)
def test_no_body_means_no_violation(status: int, body: object) -> None:
    assert validate_response("GET", f"/Users/{USER_ID}", status, body) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "kind"),
    [
        ("GET", f"/Users/{USER_ID}", 404, "<html><body>Not Found</body></html>", "Error"),
        ("GET", "/Users", 200, [MINIMAL_USER], "ListResponse"),
        ("GET", f"/Users/{USER_ID}", 200, "null-ish text", "User"),
        ("GET", f"/Users/{USER_ID}", 500, 500, "Error"),
    ],
)
def test_a_body_that_is_not_an_object_is_one_violation(
    method: str, path: str, status: int, body: object, kind: str
) -> None:
    assert validate_response(method, path, status, body) == [Violation(kind, "$", body, NOT_AN_OBJECT)]


def test_error_status_must_be_the_http_status() -> None:
    assert validate_response("GET", f"/Users/{USER_ID}", 404, ERROR) == []
    (violation,) = validate_response("GET", f"/Users/{USER_ID}", 400, ERROR)
    assert (violation.json_path, violation.value) == ("$.status", "404")
    assert "400" in violation.reason


def test_error_status_as_number_is_reported_once() -> None:
    body = ERROR | {"status": 404}
    assert [str(v) for v in validate_response("GET", f"/Users/{USER_ID}", 404, body)] == [
        "$.status: 404 is not of type string"
    ]


def test_an_unrecognised_endpoint_is_left_alone() -> None:
    assert validate_response("GET", "/Devices/1", 200, {"whatever": True}) == []
    assert validate_response("POST", "/Bulk", 200, {"Operations": "not checked"}) == []


def test_validators_are_compiled_once_per_kind() -> None:
    # Every response of a run passes through here; compiling a validator per call would make runs slow.
    # Counted, not timed: a timed assertion flakes on a busy machine.
    from scim_conformance import schemas

    body = {"schemas": [LIST_URN], "totalResults": 50, "Resources": [FULL_USER] * 50}
    validate_response("GET", "/Users", 200, body)
    before = schemas._fast_validator.cache_info()
    for _ in range(20):
        assert validate_response("GET", "/Users", 200, body) == []
        assert validate_response("GET", "/Users?attributes=userName", 200, body, partial=True) == []
    after = schemas._fast_validator.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits


def test_only_a_rejected_document_is_walked_for_its_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # The full walk (pure Python) is what costs; a valid response must be answered by the fast path alone.
    from scim_conformance import schemas

    walked: list[str] = []
    full = schemas._validator
    monkeypatch.setattr(schemas, "_validator", lambda kind, partial: walked.append(kind) or full(kind, partial))
    body = {"schemas": [LIST_URN], "totalResults": 2, "Resources": [FULL_USER, FULL_USER | {"active": "True"}]}
    assert [str(v) for v in validate_response("GET", "/Users", 200, body)] == [
        '$.Resources[1].active: "True" is not of type boolean']
    assert walked == ["User"]
    # A partial representation that lacks required members is valid, and the fast path knows it alone.
    walked.clear()
    sparse = {"schemas": [LIST_URN], "totalResults": 1, "Resources": [{"schemas": [USER_URN], "id": USER_ID}]}
    assert validate_response("GET", "/Users?attributes=id", 200, sparse, partial=True) == []
    assert walked == []


def test_the_partial_fast_path_drops_only_the_required_keyword() -> None:
    from scim_conformance import schemas

    schema = {"type": "object", "required": ["a"], "properties": {
        "required": {"type": "boolean"}, "a": {"type": "array", "items": {"required": ["b"], "type": "object"}}},
        "allOf": [{"required": ["c"]}], "const": {"required": ["kept, a value"]}}
    assert schemas._without_required(schema) == {"type": "object", "properties": {
        "required": {"type": "boolean"}, "a": {"type": "array", "items": {"type": "object"}}},
        "allOf": [{}], "const": {"required": ["kept, a value"]}}
