"""The SCIM protocol layer: routing, authentication, resources, lists, PATCH and discovery.

It knows nothing about sockets: the HTTP layer hands it a ``Request`` and writes back the ``Response``,
which keeps the protocol logic testable and the transport small.
"""

from __future__ import annotations

import contextlib
import copy
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote, unquote_plus

from .defects import Defects
from .errors import ScimError, invalid_syntax, invalid_value, not_found
from .filters import (
    COMPARE_OPS,
    And,
    AttrPath,
    BindOptions,
    Compare,
    FilterError,
    Node,
    Present,
    ValuePath,
    bind,
    matches,
    parse_attr_path,
    parse_filter,
    sort_value,
    walk,
)
from .patch import Patcher
from .quirks import Quirks
from .resources import SERVER_OWNED, Cleaner, contains_null, fill_unassigned, project, schemas_for
from .schemas import (
    ENTERPRISE_USER,
    ERROR,
    LIST_RESPONSE,
    MAX_PAYLOAD,
    MAX_RESULTS,
    AttrDef,
    ResourceType,
    find_attr,
    published,
    service_provider_config,
)
from .store import INDEXED_COLUMNS, Store
from .throttle import Throttle

SCIM_JSON = "application/scim+json"
DEFAULT_COUNT = 100
PAGE_SIZE_CAP = 50  # what defect page-size-cap serves at most
MAX_DEPTH = 32
KNOWN_QUERY_PARAMETERS = frozenset(
    {"filter", "startindex", "count", "attributes", "excludedattributes", "sortby", "sortorder"}
)
_ENDPOINTS = {"users": "User", "groups": "Group"}
# The load defects stand in for a store that takes this long to answer (a remote database): the gap between a
# read and the write built on it, which only matters while another request runs meanwhile.
RACE_WINDOW_S = 0.05
SLOW_UNDER_LOAD_S = 0.1
ONE_AT_A_TIME_S = 0.005  # how long quirk one-request-at-a-time spends on each request it serves
_WAF_PAGE = b"<html><head><title>403 Forbidden</title></head><body><h1>Request blocked</h1></body></html>"


@dataclass
class Request:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: Any = None  # a JSON value, or bytes for non-JSON pages
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = SCIM_JSON


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _depth_ok(value: Any, limit: int) -> bool:
    # Iterative, so that a hostile document cannot exhaust the interpreter's stack here either.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _etag_matches(header: str, version: str) -> bool:
    """An If-Match / If-None-Match list (RFC 7232 §3) names this version, compared weakly, or is "*"."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or version.removeprefix("W/") in tags


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class ScimService:
    def __init__(
        self, store: Store, defects: Defects, token: str, base_url: str, throttle: Throttle | None = None,
        quirks: Quirks | None = None,
    ) -> None:
        self.store = store
        self.defects = defects
        self.quirks = quirks if quirks is not None else Quirks()
        # What this server publishes and obeys (a quirk may change its schemas, see schemas.published).
        self.resource_types, self.schemas = published(
            lambda name: any(switches.on(name) for switches in (self.quirks, self.defects) if name in switches.TABLE))
        self.token = token
        self.base_url = base_url
        # One sequence for users and groups alike, so that a member id names exactly one resource.
        self._serial = itertools.count(1001)
        self.throttle = throttle
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._one_at_a_time = threading.Lock()

    # --- entry point ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self._in_flight_lock:
            self._in_flight += 1
        try:
            refusal = self._gatekeeper(request)
            if refusal is not None:
                return refusal
            if self.busy() and self.defects.on("slow-under-load"):
                with self._one_at_a_time:
                    time.sleep(SLOW_UNDER_LOAD_S)
            return self._route(request)
        except ScimError as exc:
            return self.error(exc.status, exc.detail, exc.scim_type)
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def busy(self) -> bool:
        """Is another request being served right now?"""
        return self._in_flight > 1

    def _race_window(self) -> None:
        # A first short look: alone on the server (a sequential conformance run), the gap costs no more.
        time.sleep(RACE_WINDOW_S / 3)
        if self.busy():
            time.sleep(RACE_WINDOW_S)

    def error(self, status: int, detail: str, scim_type: str | None = None) -> Response:
        body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
        okta_example = self.quirks.on("okta-error-example")
        if self.defects.on("error-status-int") or okta_example:
            body["status"] = status
        if scim_type:
            body["scimType"] = scim_type
        if okta_example:
            return Response(status, body, content_type="text/json;charset=UTF-8")
        return Response(status, body)

    def _gatekeeper(self, request: Request) -> Response | None:
        if not request.headers.get("user-agent") and self.defects.on("require-user-agent"):
            return Response(403, _WAF_PAGE, content_type="text/html; charset=utf-8")
        if self.defects.on("no-auth"):
            return self._throttled()
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), self.token.encode()):
            return self._throttled()
        status = 403 if self.defects.on("auth-403") else 401
        if self.defects.on("auth-error-plain-text") or self.quirks.on("plain-text-401"):
            # What an authentication layer in front of the application typically answers.
            response = Response(status, b"Unauthorized", content_type="text/plain; charset=utf-8")
        else:
            response = self.error(status, "a valid bearer token is required")
        if not self.defects.on("auth-no-challenge"):
            response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
        return response

    def _throttled(self) -> Response | None:
        wait = self.throttle.admit() if self.throttle is not None else None
        one_at_a_time = self.quirks.on("one-request-at-a-time") or self.defects.on("retry-after-http-date")
        if wait is None and one_at_a_time:
            if self.busy():
                wait = 1
            else:
                time.sleep(ONE_AT_A_TIME_S)  # a request takes a moment to serve, as on any real server
        if wait is None:
            return None
        response = self.error(429, "too many requests; retry later")
        if self.defects.on("retry-after-http-date"):
            response.headers["Retry-After"] = formatdate(time.time() + wait, usegmt=True)
        elif not self.defects.on("throttle-without-retry-after"):
            response.headers["Retry-After"] = str(wait)
        return response

    def _route(self, request: Request) -> Response:
        segments = [unquote(s) for s in request.path.split("/") if s]
        if [s.lower() for s in segments[:2]] != ["scim", "v2"] or len(segments) < 3:
            raise not_found(f"no SCIM endpoint at {request.path}")
        endpoint, rest = segments[2].lower(), segments[3:]
        params = self._query(request.query)
        method = request.method
        if endpoint in _ENDPOINTS and len(rest) > 1:
            raise not_found(f"no SCIM endpoint at {request.path}")
        if endpoint in _ENDPOINTS:
            rtype = self.resource_types[_ENDPOINTS[endpoint]]
            if not rest:
                if method == "GET":
                    return self.list_resources(rtype, params)
                if method == "POST":
                    return self.create(rtype, self._json(request), params)
                raise ScimError(405, f"{method} is not supported on {rtype.endpoint}")
            if rest[0] == ".search" and method == "POST":
                if self.defects.on("search-post-404"):
                    raise not_found(f"no SCIM endpoint at {request.path}")
                return self.list_resources(rtype, self._search_params(self._json(request)))
            resource_id = rest[0]
            if method == "GET":
                current = self.store.get(rtype.name, resource_id)
                wanted = request.headers.get("if-none-match")
                if current is not None and wanted and _etag_matches(wanted, current["meta"]["version"]):
                    return Response(304, headers={"ETag": current["meta"]["version"]})
                return self.get(rtype, resource_id, params)
            if method not in ("PUT", "PATCH", "DELETE"):
                raise ScimError(405, f"{method} is not supported on {rtype.endpoint}/{{id}}")
            # With If-Match, the store's lock (re-entrant) spans the check and the change, so the version checked
            # is the one changed; without it, writes are not serialised here (each change has its own transaction).
            with self.store.lock if request.headers.get("if-match") else contextlib.nullcontext():
                self._check_if_match(rtype, resource_id, request)
                if method == "PUT":
                    return self.replace(rtype, resource_id, self._json(request), params)
                if method == "PATCH":
                    return self.patch(rtype, resource_id, request, params)
                return self.delete(rtype, resource_id)
        if endpoint == "me":
            # RFC 7644 §3.11: the server does not know which resource the bearer token stands for.
            if self.defects.on("me-404"):
                raise not_found(f"no SCIM endpoint at {request.path}")
            raise ScimError(501, "/Me is not supported: this server does not map tokens to resources")
        if endpoint == ".search" and not rest and method == "POST":
            # RFC 7644 §3.4.3: /.search at the root searches every resource type at once.
            return self.search_everywhere(self._search_params(self._json(request)))
        if method != "GET":
            raise ScimError(405, f"{method} is not supported on /{segments[2]}")
        if endpoint == "serviceproviderconfig" and not rest:
            config = service_provider_config(self.base_url)
            if self.defects.on("spc-bulk-missing"):
                del config["bulk"]
            if self.quirks.on("null-unassigned"):
                config["documentationUri"] = None
                for scheme in config["authenticationSchemes"]:
                    scheme.update({"specUri": None, "documentationUri": None})
            return Response(200, config)
        if endpoint == "resourcetypes" and len(rest) <= 1:
            return self._resource_types(rest[0] if rest else None)
        if endpoint == "schemas" and len(rest) <= 1:
            return self._schemas(rest[0] if rest else None)
        raise not_found(f"no SCIM endpoint at {request.path}")

    def _query(self, raw: str) -> dict[str, str]:
        # Entra encodes spaces in filters as '+', as HTML forms do.
        decode = unquote if self.defects.on("filter-plus-literal") else unquote_plus
        params: dict[str, str] = {}
        for part in raw.split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            value = decode(value)
            if self.defects.on("query-decoded-twice"):
                value = decode(value)
            key = decode(name).lower()
            if key == "filter" and self.defects.on("filter-plus-as-space"):
                value = value.replace("+", " ")
            params[key] = value
        unknown = sorted(set(params) - KNOWN_QUERY_PARAMETERS)
        if unknown and self.defects.on("reject-unknown-query-param"):
            raise invalid_value(f"unknown query parameter(s): {', '.join(unknown)}")
        return params

    def _search_params(self, body: Any) -> dict[str, str]:
        """POST .search carries the query parameters in a SearchRequest body."""
        if not isinstance(body, dict):
            raise invalid_syntax("a SearchRequest must be a JSON object")
        params: dict[str, str] = {}
        for key, value in body.items():
            if key.lower() in KNOWN_QUERY_PARAMETERS and value is not None:
                params[key.lower()] = ",".join(value) if isinstance(value, list) else str(value)
        return params

    def _json(self, request: Request) -> Any:
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type and media_type not in (SCIM_JSON, "application/json"):
            raise ScimError(415, f"unsupported Content-Type {content_type!r}; send {SCIM_JSON}")
        if media_type == "application/json" and self.defects.on("reject-application-json"):
            raise ScimError(415, f"unsupported Content-Type {content_type!r}; send {SCIM_JSON}")
        if "charset" in content_type.lower() and self.defects.on("reject-charset"):
            raise ScimError(415, f"unsupported Content-Type {content_type!r}")
        if len(request.body) > MAX_PAYLOAD:
            raise ScimError(413, f"the request body exceeds {MAX_PAYLOAD} bytes")
        if not request.body.strip():
            raise invalid_syntax("the request needs a JSON body")
        try:
            text = request.body.decode("utf-8-sig")
            value = json.loads(text, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise invalid_syntax("the JSON body is nested too deeply") from exc
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
            if self.defects.on("malformed-json-500"):
                raise ScimError(500, "internal error") from exc
            raise invalid_syntax(f"the body is not valid JSON: {exc}") from exc
        if not _depth_ok(value, MAX_DEPTH):
            raise invalid_syntax("the JSON body is nested too deeply")
        return value

    # --- discovery ------------------------------------------------------------------------------------

    def _list_response(self, resources: list[Any], total: int | None = None, start: int = 1) -> dict[str, Any]:
        return {
            "schemas": [LIST_RESPONSE],
            "totalResults": (len(resources) if total is None else total) if not self.defects.on("list-total-string")
            else str(len(resources) if total is None else total),
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }

    def _resource_types(self, name: str | None) -> Response:
        if name is None:
            return Response(200, self._list_response([t.to_json(self.base_url) for t in self.resource_types.values()]))
        for rtype in self.resource_types.values():
            if rtype.name.lower() == name.lower() and not self.defects.on("schema-by-urn-404"):
                return Response(200, rtype.to_json(self.base_url))
        raise not_found(f"no resource type {name!r}")

    def _schemas(self, schema_id: str | None) -> Response:
        canonical = not (self.defects.on("schemas-no-canonical-values") or self.quirks.on("no-canonical-values"))
        found = next((s for s in self.schemas if s.id.lower() == schema_id.lower()), None) if schema_id else None
        if schema_id is not None and (found is None or self.defects.on("schema-by-urn-404")):
            raise not_found(f"no schema {schema_id!r}")
        chosen = list(self.schemas) if found is None else [found]
        if schema_id is None and self.defects.on("schemas-user-missing"):
            chosen = [s for s in chosen if s.name != "User"]
        if schema_id is None and self.defects.on("schemas-missing-extension"):
            chosen = [s for s in chosen if s.id != ENTERPRISE_USER]
        docs = [s.to_json(self.base_url, canonical_values=canonical) for s in chosen]
        if self.defects.on("schemas-primary-as-string"):
            for doc in docs:
                for attribute in doc.get("attributes", []):
                    for sub in attribute.get("subAttributes", []):
                        if sub.get("name") == "primary":
                            sub["type"] = "string"
        if self.quirks.on("null-unassigned"):
            attributes = [a for doc in docs for a in doc["attributes"]]
            while attributes:
                attribute = attributes.pop()
                for name in ("subAttributes", "canonicalValues", "referenceTypes"):
                    attribute.setdefault(name, None)
                attributes.extend(attribute["subAttributes"] or [])
        return Response(200, self._list_response(docs) if schema_id is None else docs[0])

    # --- filters --------------------------------------------------------------------------------------

    def _resolver(self, rtype: ResourceType) -> Callable[[AttrPath, AttrDef | None], AttrDef | None]:
        def resolve(path: AttrPath, parent: AttrDef | None) -> AttrDef | None:
            # Inside a value filter names are sub-attributes of the filtered attribute.
            found = parent.sub(path.attr) if parent is not None else rtype.attribute(path.urn, path.attr)
            if found is None and parent is None and path.urn is None:
                # The same fallback as evaluation: an unqualified extension attribute (manager).
                found = next((a for e in rtype.extensions if (a := find_attr(e.attributes, path.attr))), None)
            if found is not None and path.sub is not None:
                found = found.sub(path.sub)
            return found

        return resolve

    def _case_exact(self, rtype: ResourceType, path: AttrPath, definition: AttrDef | None) -> bool:
        if definition is None:
            return False
        if (
            rtype.name == "User"
            and definition is rtype.attribute(None, "userName")
            and self.defects.on("username-case-sensitive")
        ):
            return True
        if (
            rtype.name == "Group"
            and definition is rtype.attribute(None, "displayName")
            and self.defects.on("displayname-case-sensitive")
        ):
            return True
        return definition.case_exact

    def bind_filter(self, rtype: ResourceType, node: Node, parent: AttrDef | None = None) -> Node:
        options = BindOptions(
            case_exact=lambda path, definition: self._case_exact(rtype, path, definition),
            reject_string_booleans=self.defects.on("filter-string-boolean-rejected"),
        )
        return bind(node, self._resolver(rtype), options, parent)

    def compile_filter(self, rtype: ResourceType, text: str) -> Node:
        try:
            node = parse_filter(text, flat_precedence=self.defects.on("filter-flat-precedence"))
            if self.defects.on("filter-op-case-sensitive"):
                words = {w for w in text.replace("(", " ").replace(")", " ").split() if not w.startswith('"')}
                shouted = sorted(w for w in words if w.lower() in COMPARE_OPS | {"and", "or", "not", "pr"}
                                 and w != w.lower())
                if shouted:
                    raise FilterError(f"unknown operator {shouted[0]!r}")
            for part in walk(node):
                if isinstance(part, And) and self.defects.on("filter-and-rejected"):
                    raise FilterError("'and' is not supported")
                if isinstance(part, Compare) and part.op == "gt" and self.defects.on("filter-gt-as-ge"):
                    part.op = "ge"
                path = part.path if isinstance(part, Compare | Present | ValuePath) else None
                if (path is not None and path.urn is not None and path.urn.lower() != rtype.core.id.lower()
                        and self.defects.on("filter-extension-unsupported")):
                    raise FilterError("filters on extension attributes are not supported")
                if path is None or (path.urn is not None and path.urn.lower() != rtype.core.id.lower()):
                    continue
                if path.attr.lower() == "externalid" and self.defects.on("filter-externalid-unsupported"):
                    raise FilterError("filtering on externalId is not supported")
                if (
                    isinstance(part, ValuePath)
                    and path.attr.lower() == "emails"
                    and self.defects.on("filter-email-unsupported")
                ):
                    raise FilterError("value filters on emails are not supported")
            return self.bind_filter(rtype, node)
        except FilterError as exc:
            raise ScimError(400, f"invalid filter {text!r}: {exc}", "invalidFilter") from exc

    def _narrowing(self, rtype: ResourceType, node: Node) -> Compare | None:
        """An ``eq`` on an indexed attribute that every match must satisfy (top level or under ``and``)."""
        if isinstance(node, Compare):
            path = node.path
            core = path.urn is None or path.urn.lower() == rtype.core.id.lower()
            indexed = path.attr.lower() in INDEXED_COLUMNS
            if node.op == "eq" and core and indexed and path.sub is None and isinstance(node.value, str):
                return node
            return None
        if isinstance(node, And):
            return self._narrowing(rtype, node.left) or self._narrowing(rtype, node.right)
        return None

    def _substring_hint(self, node: Node) -> str | None:
        """Text every match's stored JSON must contain, from an ``eq`` on a string that every match satisfies
        (e.g. the value in Entra's ``emails[type eq "work"].value eq "x"``). SQLite's LIKE ignores ASCII case,
        so the hint is only used for ASCII values, where it is a safe superset for either caseExact."""
        if isinstance(node, And):
            return self._substring_hint(node.left) or self._substring_hint(node.right)
        if isinstance(node, ValuePath):
            return self._substring_hint(node.then) if node.then else self._substring_hint(node.filter)
        if isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str) and node.value.isascii():
            encoded = json.dumps(node.value)[1:-1]
            return encoded if len(encoded) >= 3 else None
        return None

    def search(self, rtype: ResourceType, node: Node) -> list[dict[str, Any]]:
        narrow = self._narrowing(rtype, node)
        if narrow is None:
            hint = self._substring_hint(node)
            candidates = self.store.scan(rtype.name) if hint is None else self.store.containing(rtype.name, hint)
            found = [doc for doc in candidates if matches(node, doc, rtype.core.id)]
        else:
            candidates = self.store.find(rtype.name, narrow.path.attr, narrow.value)
            index_is_exact = narrow.case_exact == (narrow.path.attr.lower() in ("id", "externalid"))
            if narrow is node and index_is_exact:
                # The index answers a lone eq exactly as the filter would: no second look needed.
                found = list(candidates)
            else:
                found = [doc for doc in candidates if matches(node, doc, rtype.core.id)]
        return [doc for doc in found if not self._hidden(rtype, doc)]

    def _hidden(self, rtype: ResourceType, doc: dict[str, Any]) -> bool:
        return rtype.name == "User" and doc.get("active") is False and self.defects.on("deactivated-hidden")

    # --- reading --------------------------------------------------------------------------------------

    def output(self, rtype: ResourceType, doc: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        out = dict(doc)
        if rtype.name == "User":
            groups = [] if self.quirks.on("no-user-groups") else self._groups_of(doc["id"])
            if groups:
                # groups is read-only and derived: membership lives on the Group, so it is computed here.
                out = {**{k: v for k, v in out.items() if k != "meta"}, "groups": groups, "meta": out["meta"]}
            if not self.defects.on("password-echoed"):
                out.pop("password", None)
            if self.defects.on("drop-active"):
                out.pop("active", None)
        else:
            out.setdefault("members", [])
            if self.defects.on("member-ref-missing"):
                out["members"] = [{k: v for k, v in m.items() if k != "$ref"} for m in out["members"]]
            if self.defects.on("group-schemas-missing"):
                out.pop("schemas", None)
        if self.quirks.on("primary-false-omitted"):
            out = {k: [{n: v for n, v in e.items() if not (n == "primary" and v is False)} if isinstance(e, dict)
                       else e for e in value] if isinstance(value, list) else value for k, value in out.items()}
        if self.quirks.on("null-unassigned"):
            out = fill_unassigned(out, rtype, skip=("groups",) if self.quirks.on("no-user-groups") else ())
        return project(
            out,
            rtype,
            None if self.defects.on("attributes-ignored") else params.get("attributes"),
            params.get("excludedattributes"),
            keep_members=self.defects.on("excluded-attributes-ignored"),
        )

    def _groups_of(self, user_id: str) -> list[dict[str, Any]]:
        return [
            {"value": group["id"], "$ref": group["meta"]["location"], "display": group.get("displayName"),
             "type": "direct"}
            for group in self.store.groups_with_member(user_id)
        ]

    def _int_param(self, params: dict[str, str], name: str, default: int) -> int:
        raw = params.get(name.lower())
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise invalid_value(f"{name} must be an integer, not {raw!r}") from None

    def _paging(self, params: dict[str, str]) -> tuple[int, int]:
        """(startIndex, count) as asked, clamped: RFC 7644 §3.4.2.4 reads a startIndex below 1 as 1 and a negative
        count as 0; SQLite integers are 64-bit, and nobody has 2**31 resources to page through."""
        start = min(max(1, self._int_param(params, "startIndex", 1)), 2**31)
        count = min(MAX_RESULTS, max(0, self._int_param(params, "count", DEFAULT_COUNT)))
        return start, count

    def list_resources(self, rtype: ResourceType, params: dict[str, str]) -> Response:
        start, count = self._paging(params)
        if self.defects.on("paging-ignores-count"):
            count = MAX_RESULTS
        if self.defects.on("page-size-cap"):
            count = min(count, PAGE_SIZE_CAP)
        if self.defects.on("paging-ignores-startindex"):
            start = 1
        text = params.get("filter")
        if text is not None and self.defects.on("filter-ignored"):
            text = None
        sort_by = params.get("sortby")
        if sort_by and self.defects.on("sort-ignored"):
            sort_by = None
        if text is None and sort_by:
            text = "id pr"  # sorting needs every match in hand, as a filter does
        if text is None:
            total = self.store.count(rtype.name)
            page = self.store.page(rtype.name, start - 1, count) if count else []
        else:
            try:
                found = self.search(rtype, self.compile_filter(rtype, text))
            except ScimError as exc:
                if exc.scim_type != "invalidFilter" or not self.defects.on("invalid-filter-empty"):
                    raise
                found = []
            if not found and self.defects.on("filter-miss-404"):
                raise not_found("no resource matches the filter")
            if sort_by:
                found = self._sorted(rtype, found, sort_by, params.get("sortorder"))
            total = len(found)
            page = found[start - 1:start - 1 + count]
        resources = [self.output(rtype, doc, params) for doc in page]
        if self.defects.on("paging-wrong-total"):
            total = len(resources)
        return Response(200, self._list_response(resources, total, start))

    def _sorted(self, rtype: ResourceType, docs: list[dict[str, Any]], sort_by: str, order: str | None
                ) -> list[dict[str, Any]]:
        """RFC 7644 §3.4.2.3: by the attribute's value (case-insensitively unless caseExact), resources without
        one last when ascending (the default) and first when descending."""
        descending = (order or "ascending").lower() == "descending"
        if (order or "ascending").lower() not in ("ascending", "descending"):
            raise invalid_value(f"sortOrder must be ascending or descending, not {order!r}")
        try:
            path = parse_attr_path(sort_by)
        except FilterError as exc:
            raise invalid_value(f"invalid sortBy {sort_by!r}: {exc}") from exc
        definition = self._resolver(rtype)(path, None)
        exact = definition is not None and definition.case_exact

        def key(doc: dict[str, Any]) -> tuple[bool, Any]:
            value = sort_value(doc, path, rtype.core.id)
            if isinstance(value, str) and not exact:
                value = value.lower()
            if value is None or isinstance(value, dict | list):
                return (True, "")
            return (False, (0, value) if isinstance(value, bool | int | float) else (1, str(value)))

        present = sorted((d for d in docs if not key(d)[0]), key=key, reverse=descending)
        absent = [d for d in docs if key(d)[0]]
        return absent + present if descending else present + absent

    def search_everywhere(self, params: dict[str, str]) -> Response:
        """One ListResponse over every resource type, each resource shaped by its own type.

        The filter is bound to each type's schema in turn: an attribute one type lacks simply matches
        nothing there, as RFC 7644 §3.4.2 asks of queries against the server root."""
        start, count = self._paging(params)
        text = params.get("filter")
        page: list[tuple[ResourceType, dict[str, Any]]] = []
        total = 0
        for rtype in self.resource_types.values():
            # The page continues across types in a fixed order (Users, then Groups), so paging is stable.
            offset, room = max(0, start - 1 - total), count - len(page)
            if text is None:
                size = self.store.count(rtype.name)
                docs = self.store.page(rtype.name, offset, room) if room > 0 and offset < size else []
            else:
                found = self.search(rtype, self.compile_filter(rtype, text))
                size = len(found)
                docs = found[offset:offset + room] if room > 0 else []
            page.extend((rtype, doc) for doc in docs)
            total += size
        resources = [self.output(rtype, doc, params) for rtype, doc in page]
        return Response(200, self._list_response(resources, total, start))

    def _load(self, rtype: ResourceType, resource_id: str) -> dict[str, Any]:
        doc = self.store.get(rtype.name, resource_id)
        if doc is None or self._hidden(rtype, doc):
            if self.defects.on("missing-id-400"):
                raise invalid_value(f"bad {rtype.name} id {resource_id!r}")
            raise not_found(f"{rtype.name} {resource_id!r} not found")
        return doc

    def _check_if_match(self, rtype: ResourceType, resource_id: str, request: Request) -> None:
        """RFC 7644 §3.14: a change conditioned on a version that is no longer current is refused with 412."""
        wanted = request.headers.get("if-match")
        if not wanted or self.defects.on("if-match-ignored"):
            return
        current = self.store.get(rtype.name, resource_id)
        if current is not None and not _etag_matches(wanted, current["meta"]["version"]):
            raise ScimError(412, f"{rtype.name} {resource_id!r} has changed: its version is "
                                 f"{current['meta']['version']}, not {wanted}")

    def _single(self, rtype: ResourceType, doc: dict[str, Any], params: dict[str, str], status: int) -> Response:
        headers = {} if self.defects.on("etag-header-missing") else {"ETag": doc["meta"]["version"]}
        if status == 201 and not self.defects.on("create-no-location"):
            headers["Location"] = doc["meta"]["location"]
        if status == 201 and self.defects.on("create-200"):
            status = 200
        return Response(status, self.output(rtype, doc, params), headers)

    def get(self, rtype: ResourceType, resource_id: str, params: dict[str, str]) -> Response:
        return self._single(rtype, self._load(rtype, resource_id), params, 200)

    # --- writing --------------------------------------------------------------------------------------

    def _complete(
        self, rtype: ResourceType, content: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        """Fill in the server-side parts of references: $ref, member type and display names."""
        known = {m.get("value") for m in (previous or {}).get("members", [])}
        if rtype.name == "User":
            manager = content.get(ENTERPRISE_USER, {}).get("manager")
            if isinstance(manager, dict) and manager.get("value"):
                manager["$ref"] = f"{self.base_url}/Users/{manager['value']}"
                boss = self.store.get("User", manager["value"])
                if boss and isinstance(boss.get("displayName"), str):
                    manager["displayName"] = boss["displayName"]
            return
        for member in content.get("members", []):
            if member["value"] in known and "type" in member and "$ref" in member:
                continue  # checked when it was added, and deletions remove stale members
            kind = self.store.type_of(member["value"])
            if kind is None:
                raise invalid_value(f"member {member['value']!r} does not exist")
            member["type"] = kind
            member["$ref"] = f"{self.base_url}/{kind}s/{member['value']}"
            if "display" not in member:
                target = self.store.get(kind, member["value"]) or {}
                label = target.get("displayName") or target.get("userName")
                if isinstance(label, str):
                    member["display"] = label

    def _check_unique(self, rtype: ResourceType, content: dict[str, Any], own_id: str | None) -> None:
        if rtype.name == "User":
            attribute, defect = "userName", "duplicate-username-allowed"
        else:
            attribute, defect = "displayName", "duplicate-group-allowed"
        value = content.get(attribute)
        if not isinstance(value, str):
            return
        clash = [d for d in self.store.find(rtype.name, attribute, value) if d["id"] != own_id]
        if rtype.name == "User" and self.defects.on("username-unique-case-sensitive"):
            clash = [d for d in clash if d.get(attribute) == value]
        if clash and not self.defects.on(defect):
            scim_type = None if self.defects.on("duplicate-no-scimtype") else "uniqueness"
            raise ScimError(409, f"{attribute} {value!r} is already taken", scim_type)

    def _document(
        self, rtype: ResourceType, resource_id: str, content: dict[str, Any], previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        now = _now()
        version = 1
        created = now
        if previous is None and self.defects.on("meta-timestamps-differ"):
            created = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z")
        if previous is not None:
            created = previous["meta"]["created"]
            version = int(previous["meta"]["version"].strip('W/"')) + 1
        return {
            "schemas": schemas_for(rtype, content),
            "id": resource_id,
            **content,
            "meta": {
                "resourceType": rtype.name,
                "created": created,
                "lastModified": now,
                "location": f"{self.base_url}{rtype.endpoint}/{self._in_location(resource_id)}",
                "version": f'W/"{version}"',
            },
        }

    def _in_location(self, resource_id: str) -> str:
        if not self.quirks.on("location-percent-encoded"):
            return resource_id
        return "".join(c if c.isalnum() else "".join(f"%{b:02X}" for b in c.encode()) for c in resource_id)

    def create(self, rtype: ResourceType, body: Any, params: dict[str, str]) -> Response:
        if self.defects.on("reject-null-values") and contains_null(body):
            raise invalid_value("null values are not allowed")
        if rtype.name == "Group" and isinstance(body, dict) and body.get("members") == [] \
                and self.defects.on("reject-empty-members"):
            raise invalid_value("members must not be empty")
        if rtype.name == "User" and isinstance(body, dict) and any(k.lower() == "addresses" for k in body) \
                and self.defects.on("create-addresses-rejected"):
            raise invalid_value("addresses are not accepted on create")
        cleaner = Cleaner(rtype, self.defects, self.quirks)
        listed = cleaner.check_schemas(body) if isinstance(body, dict) else None
        if rtype.name == "User" and isinstance(body, dict) and self.defects.on("reject-urn-without-extension") \
                and ENTERPRISE_USER.lower() in {s.lower() for s in listed or []} \
                and not any(k.lower() == ENTERPRISE_USER.lower() for k in body):
            raise invalid_value(f"schemas lists {ENTERPRISE_USER} but the body has no such extension")
        content = cleaner.clean(body, listed_schemas=listed)
        if rtype.name == "User" and self.defects.on("create-drops-name"):
            content.pop("name", None)
        if rtype.name == "User" and isinstance(content.get("userName"), str) and self.defects.on("username-lowercased"):
            content["userName"] = content["userName"].lower()
        content = self._written_extension(rtype, content)
        if rtype.name == "User" and self.defects.on("create-drops-department"):
            enterprise = next((v for k, v in content.items() if k.lower() == ENTERPRISE_USER.lower()), None)
            if isinstance(enterprise, dict):
                enterprise.pop("department", None)
        racy = rtype.name == "User" and self.defects.on("race-duplicate-create")
        if racy:
            self._check_unique(rtype, content, None)
            self._race_window()
        with self.store.transaction():
            self._complete(rtype, content)
            if not racy:
                self._check_unique(rtype, content, None)
            resource_id = self._new_id()
            sent_id = body.get("id") if isinstance(body, dict) else None
            if isinstance(sent_id, str) and sent_id and self.defects.on("client-id-honoured"):
                resource_id = sent_id
            doc = self._document(rtype, resource_id, content, None)
            self.store.insert(rtype.name, doc)
        return self._single(rtype, doc, params, 201)

    def _written_extension(self, rtype: ResourceType, content: dict[str, Any]) -> dict[str, Any]:
        """What a create or PUT keeps of the enterprise extension (nothing, under extension-dropped)."""
        if rtype.name != "User" or not self.defects.on("extension-dropped"):
            return content
        return {k: v for k, v in content.items() if k.lower() != ENTERPRISE_USER.lower()}

    def _new_id(self) -> str:
        if self.quirks.on("integer-ids"):
            return str(next(self._serial))
        if self.quirks.on("opaque-ids"):
            return secrets.token_urlsafe(9)
        return str(uuid.uuid4())

    def replace(self, rtype: ResourceType, resource_id: str, body: Any, params: dict[str, str]) -> Response:
        if isinstance(body, dict) and self.defects.on("put-readonly-rejected") \
                and {k.lower() for k in body} & {"id", "meta", "groups"}:
            raise ScimError(400, "id, meta and groups are read-only", "mutability")
        if isinstance(body, dict) and self.defects.on("put-empty-string-rejected") and "" in body.values():
            raise invalid_value("attributes must not be empty strings")
        if isinstance(body, dict) and self.defects.on("put-password-rejected") \
                and any(k.lower() == "password" for k in body):
            raise ScimError(400, "password can only be set when the user is created", "mutability")
        cleaner = Cleaner(rtype, self.defects, self.quirks)
        listed = cleaner.check_schemas(body) if isinstance(body, dict) else None
        content = self._written_extension(rtype, cleaner.clean(body, listed_schemas=listed))
        with self.store.transaction():
            previous = self._load(rtype, resource_id)
            if "password" in previous and "password" not in content:
                content["password"] = previous["password"]  # clients cannot read it back to resend it
            if self.defects.on("put-keeps-omitted"):
                content = {**{k: v for k, v in previous.items() if k not in SERVER_OWNED}, **content}
            self._complete(rtype, content)
            self._check_unique(rtype, content, resource_id)
            doc = self._document(rtype, resource_id, content, previous)
            if not self.defects.on("put-not-applied"):
                self.store.update(rtype.name, doc)
        return self._single(rtype, doc, params, 200)

    def patch(self, rtype: ResourceType, resource_id: str, request: Request, params: dict[str, str]) -> Response:
        lost = "lost-member-update" if rtype.name == "Group" else "lost-attribute-update"
        stale = self.store.get(rtype.name, resource_id) if self.defects.on(lost) else None
        if stale is not None:
            self._race_window()
        with self.store.transaction():
            previous = stale or self.store.get(rtype.name, resource_id)
            if previous is None and self.defects.on("patch-missing-id-500"):
                raise ScimError(500, "internal error")
            previous = stale or self._load(rtype, resource_id)
            body = self._json(request)
            content = {k: v for k, v in copy.deepcopy(previous).items() if k not in SERVER_OWNED}
            patcher = Patcher(rtype, self.defects, lambda node, parent: self.bind_filter(rtype, node, parent),
                              resource_id)
            failure: ScimError | None = None
            try:
                patched = patcher.apply(content, body)
            except ScimError as exc:
                if not self.defects.on("patch-not-atomic"):
                    raise
                # The operations before the failing one stay applied (and are stored below).
                failure, patched = exc, content
            content = Cleaner(rtype, self.defects, self.quirks).clean(patched, keep_unknown=True)
            self._complete(rtype, content, previous)
            renamed = self._unique_value(rtype, content) != self._unique_value(rtype, previous)
            if renamed:
                self._check_unique(rtype, content, resource_id)
            doc = self._document(rtype, resource_id, content, previous)
            if not self.defects.on("patch-not-applied"):
                stale_index = renamed and rtype.name == "User" and self.defects.on("rename-stale-index")
                self.store.update(rtype.name, doc, keep_user_name_index=stale_index)
        if failure is not None:
            raise failure
        if self.quirks.on("patch-204"):
            return Response(204, headers={"ETag": doc["meta"]["version"]})
        return self._single(rtype, doc, params, 200)

    @staticmethod
    def _unique_value(rtype: ResourceType, doc: dict[str, Any]) -> str | None:
        """The value that must be unique (case-insensitively) among resources of the type."""
        value = doc.get("userName" if rtype.name == "User" else "displayName")
        return value.lower() if isinstance(value, str) else None

    def delete(self, rtype: ResourceType, resource_id: str) -> Response:
        with self.store.transaction():
            if rtype.name == "User" and self.defects.on("deleted-still-readable"):
                self._load(rtype, resource_id)
                return Response(204)
            if not self.store.delete(rtype.name, resource_id):
                if self.defects.on("delete-missing-204"):
                    return Response(204)
                if self.defects.on("delete-missing-500"):
                    raise ScimError(500, "internal error")
                raise not_found(f"{rtype.name} {resource_id!r} not found")
            # A deleted user or group is no longer anybody's member.
            for group in self.store.groups_with_member(resource_id):
                members = group.get("members", [])
                kept = [m for m in members if m.get("value") != resource_id]
                if len(kept) != len(members):
                    if kept:
                        group["members"] = kept
                    else:
                        group.pop("members", None)
                    self.store.update("Group", group)
        return Response(204)
