"""Checks SCIM messages against the JSON Schemas of fixtures/schemas and says where they go wrong.

Every response of a run passes through `validate_response`, so the validators are built once per
(message kind, partial) pair and kept. A violation names the JSON path of the offending value as seen from
the top of the response body, so that a report can point at `$.Resources[2].active` rather than at a schema.

Two validators share the work. jsonschema-rs (compiled, about a thousand times faster here) answers only
"valid or not"; almost every response of a run is valid, and for those that answer is the whole job. A
document it rejects is walked again by jsonschema (pure Python), whose errors carry what a violation
needs: the path, the offending value, the keyword and our own `x-violation` wording. Both implement
Draft 2020-12 to the official test suite; where they could still differ (`pattern` is ECMA 262 in one and
Python `re` in the other), jsonschema's answer is the one that counts: a document jsonschema-rs rejects
and jsonschema accepts has no violations, and the tests of this module, whose invalid documents all pass
through the fast path first, catch the other direction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs

from scim_conformance.paths import schemas_dir

if TYPE_CHECKING:
    # jsonschema and referencing are imported where a document is invalid: a clean run never needs them.
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

SCHEMA_BASE = "https://scim-conformance.invalid/schemas/"

# The messages that have a schema of their own; Common.json only holds shared building blocks.
MESSAGE_KINDS: tuple[str, ...] = (
    "User",
    "EnterpriseUser",
    "Group",
    "ListResponse",
    "PatchOp",
    "Error",
    "ServiceProviderConfig",
    "ResourceType",
    "Schema",
)

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"

# Said of a required member that is absent. The violation's path names the member itself, which reads
# better in a report than the path of the object that lacks it.
MISSING = "is required but missing"
NOT_AN_OBJECT = "is not a JSON object"
REDACTED = "<redacted>"

# Values shown by __str__ are cut here: an HTML error page as a body must not flood a report line.
_SHOWN_LIMIT = 120
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Whatever a server sends back under these names stays out of reports (the design: secrets are redacted).
_SECRET_NAMES = frozenset({"password"})


@dataclass(frozen=True)
class Violation:
    """One place where a message departs from the schema of its kind."""

    message_kind: str  # the message type validated, e.g. "User", "ListResponse", "Error"
    json_path: str  # from the top of the body, e.g. "$.emails[0].primary" or "$.Resources[2].active"
    value: object  # the offending value; None for a missing member, REDACTED for a secret
    reason: str  # reads after the value: "is not of type boolean", "is required but missing"

    def __str__(self) -> str:
        if self.reason == MISSING:
            return f"{self.json_path}: {self.reason}"
        shown = json.dumps(self.value, ensure_ascii=False, default=repr)
        if len(shown) > _SHOWN_LIMIT:
            shown = shown[: _SHOWN_LIMIT - 1] + "…"
        return f"{self.json_path}: {shown} {self.reason}"


# --- building the validators -------------------------------------------------------------------------


def _skip_required(_validator: Validator, _required: Any, _instance: Any, _schema: Any) -> None:
    # A response to `attributes=`/`excludedAttributes=` may leave out anything (RFC 7644 §3.4.2.5),
    # so a partial representation is held to types and values only (`_without_required` for the fast path).
    return None


@cache
def _documents() -> dict[str, Any]:
    """Every schema document of fixtures/schemas by its $id."""
    documents = {}
    for path in sorted(schemas_dir().glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        documents[contents["$id"]] = contents
    return documents


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [Resource.from_contents(contents, default_specification=DRAFT202012)
                 for contents in _documents().values()]
    # Every bundled schema carries its $id, so no resource's id is None.
    return Registry().with_resources((str(resource.id()), resource) for resource in resources).crawl()


def schema_uri(message_kind: str) -> str:
    return f"{SCHEMA_BASE}{message_kind}.json"


def _known(message_kind: str) -> None:
    if message_kind not in MESSAGE_KINDS:
        raise ValueError(f"no schema for message kind {message_kind!r}; known: {', '.join(MESSAGE_KINDS)}")


@cache
def _fast_validator(message_kind: str, partial: bool) -> jsonschema_rs.Validator:
    """Valid or not, fast; for a partial representation, against the schemas without their `required`."""
    _known(message_kind)
    uri = schema_uri(message_kind)
    # offline: every $ref resolves in the registry; nothing is ever fetched.
    return jsonschema_rs.Draft202012Validator(_fast_documents(partial)[uri], registry=_fast_registry(partial),
                                              offline=True)


@cache
def _fast_registry(partial: bool) -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry(list(_fast_documents(partial).items()))


@cache
def _fast_documents(partial: bool) -> dict[str, Any]:
    documents = _documents()
    return {uri: _without_required(doc) for uri, doc in documents.items()} if partial else documents


# Where a schema holds subschemas: by name, in a list, or as one schema. Nothing else is descended into,
# so a property that happens to be called "required" (Schema.json describes one) keeps its definition.
_NAMED_SUBSCHEMAS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_LISTED_SUBSCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMAS = ("items", "not", "if", "then", "else", "contains", "additionalProperties", "propertyNames",
               "unevaluatedItems", "unevaluatedProperties")


def _without_required(schema: Any) -> Any:
    """The schema as `_PartialValidator` applies it: every `required` keyword gone, the rest unchanged."""
    if not isinstance(schema, dict):
        return schema
    result = {}
    for keyword, value in schema.items():
        if keyword == "required":
            continue
        if keyword in _NAMED_SUBSCHEMAS and isinstance(value, dict):
            value = {name: _without_required(sub) for name, sub in value.items()}
        elif keyword in _LISTED_SUBSCHEMAS and isinstance(value, list):
            value = [_without_required(sub) for sub in value]
        elif keyword in _SUBSCHEMAS:
            value = _without_required(value)
        result[keyword] = value
    return result


@cache
def _validator(message_kind: str, partial: bool) -> Validator:
    """The full walk, with the error detail a violation needs (only for documents the fast path rejects)."""
    _known(message_kind)
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    registry = _registry()
    schema = registry.contents(schema_uri(message_kind))
    if not partial:
        return Draft202012Validator(schema, registry=registry)
    # jsonschema's extend() has no annotations; it returns a validator class like the one it extends.
    cls = extend(Draft202012Validator, validators={"required": _skip_required})  # type: ignore[no-untyped-call]
    return cls(schema, registry=registry)  # type: ignore[no-any-return]  # an instance of that class


# --- turning jsonschema errors into violations --------------------------------------------------------


def json_path(segments: Iterable[str | int]) -> str:
    """`$` followed by `.name`, `[index]`, or `["name"]` for names that are not plain identifiers."""
    text = "$"
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _IDENTIFIER.match(segment):
            text += f".{segment}"
        else:
            text += f"[{json.dumps(segment, ensure_ascii=False)}]"
    return text


def _type_names(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    # null is only accepted as "unassigned" (RFC 7643 §2.5); naming it would hide the SCIM type asked for.
    shown = [name for name in names if name != "null"] or names
    return " or ".join(shown)


def _reason(error: ValidationError) -> str:
    schema = error.schema
    if isinstance(schema, Mapping) and isinstance(schema.get("x-violation"), str):
        return str(schema["x-violation"])
    kind, expected = error.validator, cast(Any, error.validator_value)  # the keyword's value in the schema
    if kind == "type":
        return f"is not of type {_type_names(expected)}"
    if kind == "enum":
        return "is not one of " + ", ".join(json.dumps(option) for option in expected)
    if kind == "const":
        return f"is not {json.dumps(expected)}"
    if kind == "contains" and isinstance(expected, Mapping) and "const" in expected:
        return f"does not contain {json.dumps(expected['const'])}"
    if kind == "minimum":
        return f"is less than {expected}"
    if kind == "exclusiveMinimum":
        return f"is not greater than {expected}"
    if kind == "minItems":
        return f"has fewer than {expected} item{'s' if expected != 1 else ''}"
    if kind == "uniqueItems":
        return "has duplicate items"
    if kind == "pattern":
        return f"does not match {expected}"
    if kind == "not":
        return "is not allowed here"
    return error.message


def _shown_value(segments: list[str | int], value: object) -> object:
    last = segments[-1] if segments else None
    if isinstance(last, str) and last.lower() in _SECRET_NAMES:
        return REDACTED
    return value


def _violations(
    message_kind: str, errors: Iterable[ValidationError], prefix: list[str | int]
) -> Iterator[Violation]:
    for error in errors:
        segments = [*prefix, *error.absolute_path]
        if error.validator == "required":
            # jsonschema raises one error per absent name but hands each the whole list; the dedupe in
            # _collect folds the repeats.
            present = error.instance if isinstance(error.instance, Mapping) else {}
            for name in cast(list[str], error.validator_value):
                if name not in present:
                    yield Violation(message_kind, json_path([*segments, name]), None, MISSING)
            continue
        shown = _shown_value(segments, error.instance)
        yield Violation(message_kind, json_path(segments), shown, _reason(error))


def _sort_key(violation: Violation) -> tuple[str, str]:
    # Indexes compare as numbers, so $.emails[2] comes before $.emails[10].
    padded = re.sub(r"\[(\d+)\]", lambda match: f"[{int(match.group(1)):09d}]", violation.json_path)
    return padded, violation.reason


def _collect(violations: Iterable[Violation]) -> list[Violation]:
    unique: dict[tuple[str, str, str], Violation] = {}
    for violation in violations:
        unique.setdefault((violation.message_kind, violation.json_path, violation.reason), violation)
    return sorted(unique.values(), key=_sort_key)


def _check(
    message_kind: str, body: object, partial: bool, prefix: list[str | int]
) -> Iterator[Violation]:
    if not isinstance(body, Mapping):
        yield Violation(message_kind, json_path(prefix), body, NOT_AN_OBJECT)
        return
    if _fast_validator(message_kind, partial).is_valid(body):
        return
    yield from _violations(message_kind, _validator(message_kind, partial).iter_errors(body), prefix)


# --- public API ---------------------------------------------------------------------------------------


def validate(message_kind: str, body: object, *, partial: bool = False) -> list[Violation]:
    """Check a decoded JSON body against one named schema (one of MESSAGE_KINDS).

    `partial=True` is for representations cut down by `attributes=` or `excludedAttributes=`: required
    members are then not asked for, while every member present must still have the right type.
    A ListResponse is checked as an envelope only here; `validate_response` also checks its Resources.
    """
    _known(message_kind)  # an unknown kind is the caller's mistake: fail loudly, always
    return _collect(_check(message_kind, body, partial, []))


def _resource_kind(item: Mapping[str, Any]) -> str | None:
    # A query at the root or at /.search returns resources of several types; each says its own.
    schemas = item.get("schemas")
    if not isinstance(schemas, list):
        return None
    if USER_URN in schemas:
        return "User"
    if GROUP_URN in schemas:
        return "Group"
    return None


def _check_list(body: object, item_kind: str | None, partial: bool) -> Iterator[Violation]:
    # The envelope is answered in full whatever attributes were asked for (RFC 7644 §3.4.2.5 narrows
    # the resources only), so `partial` reaches the items and not the envelope.
    yield from _check("ListResponse", body, False, [])
    if not isinstance(body, Mapping) or not isinstance(body.get("Resources"), list):
        return
    for index, item in enumerate(body["Resources"]):
        if not isinstance(item, Mapping):
            continue  # the envelope schema has already said so
        kind = item_kind or _resource_kind(item)
        if kind is not None:
            yield from _check(kind, item, partial, ["Resources", index])


# Endpoints by the lower-cased first path segment, and what a single resource there is.
_COLLECTIONS = {"users": "User", "groups": "Group", "schemas": "Schema", "resourcetypes": "ResourceType"}
_CREATABLE = frozenset({"users", "groups"})
LIST_OF = "ListResponse of "  # expected_kind's prefix for a list, e.g. "ListResponse of User"


def _segments(resource_path: str) -> list[str]:
    path = resource_path.split("?", 1)[0].split("#", 1)[0]
    return [segment for segment in path.split("/") if segment]


def expected_kind(method: str, resource_path: str, status: int) -> str | None:
    """What a response body should be: a message kind, "ListResponse of <kind>" (or "ListResponse of *"
    for a query across resource types), or None when this suite has no opinion on it."""
    if status >= 400:
        return "Error"
    if not 200 <= status < 300 or status == 204:
        return None
    method = method.upper()
    segments = _segments(resource_path)
    lowered = [segment.lower() for segment in segments]
    if (lowered == [] and method == "GET") or (lowered == [".search"] and method == "POST"):
        return LIST_OF + "*"
    if lowered == ["serviceproviderconfig"]:
        return "ServiceProviderConfig" if method == "GET" else None
    if lowered == ["me"]:
        return "User" if method != "DELETE" else None
    if not lowered or lowered[0] not in _COLLECTIONS:
        return None
    kind = _COLLECTIONS[lowered[0]]
    if len(lowered) == 1:
        if method == "GET":
            return LIST_OF + kind
        if method == "POST" and lowered[0] in _CREATABLE:
            return kind
        return None
    if len(lowered) == 2 and lowered[1] == ".search":
        return LIST_OF + kind if method == "POST" else None
    if len(lowered) == 2 and method != "DELETE":
        return kind
    return None


def _is_empty(body: object) -> bool:
    return body is None or (isinstance(body, str | bytes) and not body.strip())


def validate_response(
    method: str, resource_path: str, status: int, body: object, *, partial: bool = False
) -> list[Violation]:
    """Check a response body against what the request calls for.

    `resource_path` is relative to the SCIM base URL (`/Users`, `/Users/abc`, `/Schemas/urn:...`); a query
    string is ignored. `body` is the decoded JSON, or None / the raw text when there was nothing to decode
    or it was not JSON. No body, 204 and 1xx/3xx give no violations; a body that is not a JSON object
    gives one violation at `$`. `partial` as for `validate`, applied to resources only.
    """
    if status == 204 or _is_empty(body):
        return []
    kind = expected_kind(method, resource_path, status)
    if kind is None:
        return []
    if kind.startswith(LIST_OF):
        item_kind = kind.removeprefix(LIST_OF)
        return _collect(_check_list(body, None if item_kind == "*" else item_kind, partial))
    if kind == "Error":
        return _collect([*_check("Error", body, False, []), *_status_mismatch(body, status)])
    return _collect(_check(kind, body, partial, []))


def _status_mismatch(body: object, status: int) -> Iterator[Violation]:
    # RFC 7644 §3.12: "status" is *the* HTTP status code of the response, only written as a string.
    written = body.get("status") if isinstance(body, Mapping) else None
    # A status that is not three digits at all has been reported by the schema already.
    if isinstance(written, str) and re.fullmatch(r"[1-5][0-9]{2}", written) and written != str(status):
        yield Violation("Error", "$.status", written, f"does not match the HTTP status {status}")
