"""One quick probe before the checks: is this a SCIM endpoint we can talk to at all?

It tells apart "not reachable", "TLS failed", "token refused" and "not a SCIM endpoint" and stops the
run with one line, instead of a wall of failing checks. A server that answers in JSON, even wrongly,
passes: judging the answer is the checks' job.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from scim_conformance.client import ScimClient, TransportError


class PreflightError(Exception):
    """The target cannot be tested; the message is the one line the user sees."""


def preflight(client: ScimClient, flag: Callable[[str], str]) -> None:
    """`flag` spells an option (by its field name) the way the user typed it, for the hints."""
    probe = f'userName eq "{uuid.uuid4()}"'
    try:
        exchange = client.get("/Users", params={"filter": probe})
    except TransportError as exc:
        hint = {
            "tls": f" (use {flag('ca_bundle')} for a private CA, or {flag('insecure')} to skip verification)",
            "unreachable": "",
            "timeout": f" (raise {flag('timeout')} if the server is slow)",
        }.get(exc.kind, "")
        raise PreflightError(f"cannot reach {client.base_url}: {str(exc).split(': ', 1)[-1]}{hint}") from None
    if exchange.status in (401, 403):
        raise PreflightError(
            f"{client.base_url} refused the bearer token ({exchange.status} to GET /Users); "
            f"check the token in $SCIM_TOKEN (or {flag('scim_token_env')} / {flag('scim_token_file')})")
    if exchange.status == 429:
        raise PreflightError(f"{client.base_url} answers 429 Too Many Requests to GET /Users, even after "
                             f"waiting as asked; try again later (or lower {flag('max_rps')})")
    if 300 <= (exchange.status or 0) < 400:
        location = exchange.header("Location") or "?"
        raise PreflightError(f"{client.base_url}/Users redirects ({exchange.status}) to {location}; "
                             f"point {flag('scim_url')} at the SCIM base URL itself")
    if exchange.json is None:
        kind = exchange.content_type or "no Content-Type"
        raise PreflightError(
            f"{client.base_url} is not a SCIM endpoint: GET /Users answered {exchange.status} {kind}, not JSON "
            "(is the base URL right, e.g. https://host/scim/v2?)")
