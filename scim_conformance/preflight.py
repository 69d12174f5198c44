"""One quick probe before the checks: is this a SCIM endpoint we can talk to at all?

It tells apart "not reachable", "TLS failed", "token refused" and "not a SCIM endpoint" and stops the
run with one line, instead of a wall of failing checks. A server that answers in JSON, even wrongly,
passes: judging the answer is the checks' job.
"""

from __future__ import annotations

import uuid

from scim_conformance.client import ScimClient, TransportError

EXIT_UNUSABLE = 3


class PreflightError(Exception):
    """The target cannot be tested; the message is the one line the user sees."""


def preflight(client: ScimClient) -> None:
    probe = f'userName eq "{uuid.uuid4()}"'
    try:
        exchange = client.get("/Users", params={"filter": probe})
    except TransportError as exc:
        hint = {
            "tls": " (use --ca-bundle for a private CA, or --insecure to skip verification)",
            "unreachable": "",
            "timeout": " (raise --scim-timeout if the server is slow)",
        }.get(exc.kind, "")
        raise PreflightError(f"cannot reach {client.base_url}: {str(exc).split(': ', 1)[-1]}{hint}") from None
    if exchange.status in (401, 403):
        raise PreflightError(
            f"{client.base_url} refused the bearer token ({exchange.status} to GET /Users); "
            "check the token in $SCIM_TOKEN (or --scim-token-env / --scim-token-file)")
    if exchange.status == 429:
        raise PreflightError(f"{client.base_url} answers 429 Too Many Requests to GET /Users, even after "
                             "waiting as asked; try again later (or lower --max-rps)")
    if 300 <= (exchange.status or 0) < 400:
        location = exchange.header("Location") or "?"
        raise PreflightError(f"{client.base_url}/Users redirects ({exchange.status}) to {location}; "
                             "point --scim-url at the SCIM base URL itself")
    if exchange.json is None:
        kind = exchange.content_type or "no Content-Type"
        raise PreflightError(
            f"{client.base_url} is not a SCIM endpoint: GET /Users answered {exchange.status} {kind}, not JSON "
            "(is the base URL right, e.g. https://host/scim/v2?)")
