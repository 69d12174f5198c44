"""Quirk switches: the mirror image of the defect switches. Each makes the reference server behave in a way
that is legal (RFC 7643/7644 allow it) and that Entra ID tolerates, as real servers do.

The self-tests run every profile against the server with one quirk on and expect no finding at all: a check
that fails under a quirk is a false alarm. A quirk is consulted at the single place in the server where its
behaviour lives (``if quirks.on("patch-204"):``), exactly like a defect. A few quirks are one identity
provider's own practice rather than the RFC's (Okta's error example): only that provider's profile must stay
silent under them.
"""

from __future__ import annotations

from .defects import Defects

# Top-level names reserved for special use (RFC 2606, 6761, 6762, 7686; .arpa for infrastructure). email-validator
# (behind pydantic's EmailStr) refuses all of them but .example in addresses; other validators refuse that too.
SPECIAL_USE_TLDS = ("test", "invalid", "local", "localhost", "example", "onion", "arpa")

QUIRKS: dict[str, str] = {
    "null-unassigned": "writes null for optional properties it has no value for, in resources and discovery "
    "documents (RFC 7643 §2.5)",
    "patch-204": "answers a successful PATCH with 204 No Content and no body (RFC 7644 §3.5.2)",
    "primary-false-omitted": "leaves 'primary' out of multi-valued elements where it would be false",
    "no-canonical-values": "leaves canonicalValues out of /Schemas (optional, RFC 7643 §7)",
    "integer-ids": "assigns ids that are integers written as strings (\"1001\"), from one sequence",
    "opaque-ids": "assigns ids that are short random strings, not UUIDs",
    "strict-email-domains": "answers 400 invalidValue to userNames and emails on special-use domains "
    f"({', '.join('.' + tld for tld in SPECIAL_USE_TLDS)}), as strict validators such as pydantic's EmailStr do",
    "plain-text-401": "answers a missing or wrong bearer token with 401 and a text/plain body (the identity "
    "providers ignore it; RFC 7644 §3.12 does not, so rfc7644 reports it)",
    "no-user-groups": "never returns the read-only 'groups' attribute on users",
    "one-request-at-a-time": "answers 429 with Retry-After: 1 to a request that arrives while another is being "
    "served (a per-client concurrency limit)",
    # Not RFC-legal (RFC 7644 §3.12 makes status a string), but Okta's own examples: judged under okta only.
    "okta-error-example": "answers errors as Okta's SCIM 2.0 reference does: Content-Type text/json;charset=UTF-8 "
    "and status as a number",
    "location-percent-encoded": "writes the id in meta.location and Location with every character but letters and "
    "digits percent-encoded (%2D for '-'), an equivalent URL (RFC 3986 §6.2.2.2)",
    "name-formatted-required": "declares name and name.formatted required in /Schemas and answers 400 to a user "
    "created without a formatted name (RFC 7643 §7 lets a schema make any attribute required)",
    "no-enterprise-extension": "declares no enterprise extension (/Schemas, /ResourceTypes) and drops enterprise "
    "data it is sent",
    "core-subset": "declares only some core User attributes (userName, name, displayName, active, emails, groups) "
    "and drops the others it is sent",
}


class Quirks(Defects):
    """The set of quirks a server runs with; unknown names are refused up front, as for defects."""

    TABLE = QUIRKS
    KIND = "quirk"
