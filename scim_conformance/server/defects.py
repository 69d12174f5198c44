"""Defect switches: each name makes the reference server wrong in exactly one, documented way.

The self-tests run the conformance checks against the server with one switch on and expect the checks
written for that behaviour to fail. A switch is consulted at the single place in the server where its
behaviour lives (``if defects.on("filter-miss-404"):``), so switches combine freely.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFECTS: dict[str, str] = {
    # Transport and authentication
    "no-auth": "serves every request without checking the bearer token",
    "auth-403": "answers a missing or wrong bearer token with 403 instead of 401",
    "auth-no-challenge": "refuses a missing or wrong bearer token with 401 but no WWW-Authenticate header",
    "require-user-agent": "answers requests without a User-Agent header with a 403 HTML page, like a WAF rule",
    "reject-unknown-query-param": "answers 400 to any query parameter it does not know (e.g. ?aadOptscim062020)",
    "content-type-json": "labels every response application/json instead of application/scim+json",
    "reject-charset": "answers 415 to a request whose Content-Type carries '; charset=utf-8'",
    "error-status-int": "writes 'status' in Error bodies as a JSON number instead of a string",
    "slow-responses": "delays every response by 2 seconds",
    # Filtering
    "filter-miss-404": "answers 404 instead of an empty ListResponse to a filtered list that matches nothing",
    "filter-plus-literal": "decodes the query string without turning '+' into a space",
    "username-case-sensitive": "compares userName case-sensitively in filters",
    "displayname-case-sensitive": "compares a group's displayName case-sensitively in filters",
    "filter-externalid-unsupported": "answers 400 invalidFilter to any filter on externalId",
    "filter-email-unsupported": "answers 400 invalidFilter to a value-path filter on emails",
    "filter-ignored": "ignores 'filter' and lists every resource of the type",
    "filter-string-boolean-rejected": "answers 400 to a filter or path comparing a boolean attribute with \"True\"",
    "excluded-attributes-ignored": "returns members even when excludedAttributes=members",
    "deactivated-hidden": "hides users with active false from GET by id (404) and from filtered lists",
    # Paging
    "paging-ignores-startindex": "ignores startIndex: always serves the first page and echoes startIndex 1",
    "paging-wrong-total": "reports totalResults as the size of the page instead of the whole result",
    # Create / replace bodies
    "reject-null-values": "answers 400 to a create body that carries a JSON null",
    "reject-unlisted-extension": "answers 400 to a body with an extension object whose URN is not in 'schemas'",
    "reject-string-booleans": "answers 400 to \"True\"/\"False\" where a boolean is expected (create, PUT, PATCH)",
    "store-string-booleans": "stores string booleans as sent and returns them as strings",
    "duplicate-username-allowed": "creates a second user with a userName that already exists",
    "username-unique-case-sensitive": "refuses an exact duplicate userName with 409 but creates one that differs "
    "only in case",
    "duplicate-group-allowed": "creates a second group with a displayName that already exists",
    "reformat-phone": "strips spaces and dashes from phone numbers before storing them",
    "reject-ms-group-schema": "answers 400 to a group whose 'schemas' lists the Microsoft ADSCIM group schema URI",
    "roles-json-string-rejected": "answers 400 to roles whose value is a JSON-encoded string",
    "roles-ignored": "accepts roles on create and PATCH but never stores them",
    # Representation
    "drop-active": "leaves 'active' out of every User representation",
    "password-echoed": "returns the stored password in User representations",
    "schemas-no-canonical-values": "leaves canonicalValues out of /Schemas",
    "list-total-string": "writes totalResults in every ListResponse as a string",
    "group-schemas-missing": "leaves 'schemas' out of Group representations",
    "spc-bulk-missing": "leaves the REQUIRED 'bulk' block out of /ServiceProviderConfig",
    "username-lowercased": "stores a new user's userName in lower case instead of exactly as sent",
    # Reads and deletes
    "missing-id-400": "answers 400 instead of 404 to GET of an unknown id",
    "deleted-still-readable": "answers DELETE of a user with 204 but the user stays readable by id and filter",
    "delete-missing-204": "answers 204 instead of 404 to DELETE of an unknown or already deleted id",
    # PATCH
    "op-case-sensitive": "accepts only lower-case PATCH 'op' values (400 invalidSyntax for 'Replace')",
    "patch-not-applied": "answers PATCH with 200 and the patched resource but stores nothing",
    "rename-stale-index": "a userName change by PATCH updates the document but not the lookup index",
    "patch-no-target-400": "answers 400 noTarget to add/replace on a value-filtered path with no matching element",
    "filtered-add-replaces-list": "add/replace on a value-filtered path with no match replaces the whole "
    "multi-valued attribute with the new element",
    "urn-path-literal": "stores a URN-qualified PATCH path as a literal top-level key, not in the extension",
    "path-case-sensitive": "resolves PATCH path attribute names case-sensitively and ignores unknown-cased ones",
    "pathless-dotted-literal": "in a path-less add/replace, stores dotted keys (name.givenName) as literal keys",
    "pathless-replace-rejected": "answers 400 to add/replace operations without a path",
    "multi-op-first-only": "applies only the first operation of a PatchOp",
    "add-existing-400": "answers 400 to 'add' on a single-valued attribute that already has a value",
    "patch-missing-id-500": "answers 500 instead of 404 to PATCH of an unknown id",
    "empty-replace-ignored": "ignores replace operations whose value is \"\" (the old value is kept)",
    "null-replace-rejected": "answers 400 to replace operations whose value is null",
    # Manager
    "manager-string-rejected": "answers 400 to a manager given as a bare id string",
    "manager-object-rejected": "answers 400 to a manager given as {\"value\": id}",
    "manager-legacy-500": "answers 500 to the legacy path 'manager' with an array value",
    "manager-empty-kept": "stores {\"value\": \"\"} for an emptied manager instead of removing it",
    # Groups
    "member-remove-value-list-rejected": "answers 400 to 'remove' on members with a value list",
    "member-remove-all": "'remove' on members with a value list removes every member",
    "member-filter-remove-ignored": "ignores 'remove' on members[value eq \"x\"]",
    "member-add-first-only": "adds only the first member of a multi-member add",
    "member-add-ignored": "answers a PATCH add on a group's members with 200 but adds nobody",
    "member-add-duplicate-500": "answers 500 when an added member is already in the group",
    # What Okta relies on (issue 17)
    "paging-ignores-count": "ignores count and puts every resource on the first page",
    "page-size-cap": "serves at most 50 resources per page whatever count asks for (RFC-legal, but Okta "
    "advances startIndex by count)",
    "put-readonly-rejected": "answers 400 mutability to a PUT body that carries id, meta or groups",
    "put-keeps-omitted": "keeps the attributes a PUT leaves out, as if the PUT were a PATCH",
    "pathless-id-rejected": "answers 400 mutability to a path-less replace that restates the resource's own id",
    "member-replace-appends": "a replace on members adds the given members to the old ones instead of replacing them",
    "reject-empty-members": "answers 400 to a group create whose members is an empty array",
    # What Okta relies on (issue 23)
    "put-empty-string-rejected": "answers 400 invalidValue to a PUT body that carries an attribute as \"\"",
    "put-password-rejected": "answers 400 mutability to a PUT body that carries a password",
    "member-add-batch-capped": "adds only the first 50 members of an add on members and drops the rest",
    "retry-after-http-date": "serves one request at a time (429 to a request arriving while another is served) "
    "and gives Retry-After as an HTTP date, which HTTP allows but Okta does not read",
    # A tenant's own mappings (imported profiles)
    "schemas-primary-as-string": "declares every 'primary' sub-attribute as a string in /Schemas",
    "create-drops-department": "drops the enterprise department from a create body (a PATCH still sets it)",
    "patch-replace-nonwork-ignored": "answers 200 to a replace of an existing element on a value-filtered path "
    "whose type is not work (mobile, fax, home) and keeps the old value",
    "null-clear-filtered-ignored": "answers 200 to a replace with null on a value-filtered path and keeps the old "
    "value",
    "filter-extension-unsupported": "answers 400 invalidFilter to a filter on an extension attribute "
    "(urn:...:enterprise:2.0:User:employeeNumber)",
    "preferred-language-unsupported": "neither declares nor stores preferredLanguage, which Entra's default "
    "mapping sends (dropped silently, as servers do with attributes they lack)",
    # RFC 7643/7644 on their own (the rfc7644 profile)
    "extension-dropped": "declares the enterprise extension but keeps none of its attributes sent in a create or a "
    "PUT",
    "schemas-missing-extension": "leaves the enterprise extension schema out of GET /Schemas",
    "schema-by-urn-404": "answers 404 to /Schemas/{urn} and /ResourceTypes/{id} (only the lists are served)",
    "client-id-honoured": "creates a resource under the id the client sent instead of assigning one",
    "required-not-enforced": "creates a user without userName instead of refusing it",
    "create-200": "answers a successful create with 200 instead of 201",
    "create-no-location": "leaves the Location header out of the answer to a create",
    "meta-timestamps-differ": "on create, sets meta.lastModified a second later than meta.created",
    "attributes-ignored": "ignores the 'attributes' query parameter and returns whole resources",
    "put-not-applied": "answers PUT with 200 and the new representation but stores nothing",
    "filter-gt-as-ge": "evaluates the filter operator gt as ge (equal values match)",
    "filter-flat-precedence": "evaluates 'and' and 'or' in filters left to right with equal precedence",
    "filter-op-case-sensitive": "answers 400 invalidFilter to filter operators not written in lower case (Eq, AND)",
    "query-decoded-twice": "percent-decodes the query string twice (%252B arrives as +)",
    "invalid-filter-empty": "answers a filter it cannot parse with 200 and an empty ListResponse",
    "search-post-404": "answers 404 to POST /{resource type}/.search",
    "remove-without-path-ok": "answers 200 to a PATCH remove without a path, changing nothing",
    "patch-readonly-ignored": "ignores PATCH operations on readOnly attributes (id, groups) instead of refusing them",
    "unknown-op-ignored": "skips PATCH operations with an unknown op instead of refusing the request",
    "patch-not-atomic": "keeps the operations of a PatchOp that ran before the one that failed",
    "member-ref-missing": "leaves $ref out of a group's members",
    "reject-application-json": "answers 415 to a request body sent as application/json",
    "me-404": "answers 404 to /Me instead of 501 Not Implemented",
    "etag-header-missing": "leaves the ETag header out of answers with a single resource (etag is advertised)",
    "if-match-ignored": "applies PUT, PATCH and DELETE whatever version If-Match names",
    "malformed-json-500": "answers a request body that is not valid JSON with 500 instead of 400 invalidSyntax",
    "sort-ignored": "ignores sortBy and sortOrder, listing resources in creation order (sort is advertised)",
    # Under load (judged by `scim-conformance load`; a sequential conformance run never meets them)
    "throttle-without-retry-after": "when it throttles, answers 429 without a Retry-After header",
    "retry-after-too-short": "when it throttles, keeps refusing for three times the Retry-After it announces",
    "race-duplicate-create": "checks userName uniqueness before the write transaction, so concurrent creates all win",
    "lost-member-update": "reads a group before the write transaction of a PATCH, so concurrent member adds overwrite "
    "each other",
    "lost-attribute-update": "reads a user before the write transaction of a PATCH, so concurrent PATCHes overwrite "
    "each other",
    "slow-under-load": "while another request is in flight, serves one request at a time and spends 100 ms on each",
    # Issue 11 (accuracy): setups confirmed, graded outcomes
    "duplicate-no-scimtype": "answers a duplicate userName or displayName with 409 but no scimType",
    "delete-missing-500": "answers 500 instead of 404 to DELETE of an unknown or already deleted id",
    "auth-error-plain-text": "refuses a missing or wrong bearer token with a text/plain body, not a SCIM Error",
    "manager-replace-ignored": "answers a replace of the manager with another user's id but keeps the old manager",
    "reactivation-ignored": "answers a PATCH of active back to true but keeps a deactivated user inactive",
    "schemas-user-missing": "leaves the core User schema out of the /Schemas list",
    "create-addresses-rejected": "answers 400 to a user create that carries addresses, as strict validators "
    "refuse one part of Entra's body (the minimal body is accepted)",
    # Issue 22: every value Entra sends verified as stored
    "create-drops-name": "drops 'name' (givenName, familyName, formatted) from a user create body",
    "non-ascii-as-question-mark": "stores every letter outside ASCII as '?' (Zoë becomes Zo?)",
    "reject-urn-without-extension": "answers 400 to a create whose 'schemas' lists the enterprise URN while the "
    "body carries no enterprise object (Microsoft's own Create User example)",
    "filter-plus-as-space": "turns a '+' in a filter value into a space after decoding the query (%2B arrives "
    "as ' ')",
    "filter-and-rejected": "answers 400 invalidFilter to any filter that combines comparisons with 'and'",
}


class Defects:
    """The set of switches a server runs with; unknown names are refused up front, not ignored."""

    # Subclasses name another table (the legal quirks) and reuse the rest.
    TABLE: dict[str, str] = DEFECTS
    KIND = "defect"

    def __init__(self, names: Iterable[str] = ()) -> None:
        chosen = tuple(names)
        unknown = [name for name in chosen if name not in self.TABLE]
        if unknown:
            raise ValueError(
                f"unknown {self.KIND}(s): {', '.join(unknown)}; "
                f"valid {self.KIND}s are: {', '.join(sorted(self.TABLE))}"
            )
        self._names = frozenset(chosen)

    def on(self, name: str) -> bool:
        # A typo in the server's own code must not silently read as "off".
        if name not in self.TABLE:
            raise KeyError(f"no such {self.KIND} switch: {name}")
        return name in self._names

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def __bool__(self) -> bool:
        return bool(self._names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self._names)!r})"
