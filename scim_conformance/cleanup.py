"""`scim-conformance cleanup`: delete what an interrupted or killed run left behind, and nothing else."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scim_conformance.client import ScimClient, TransportError
from scim_conformance.journal import Journal, leftovers
from scim_conformance.options import Connection, OptionError, from_namespace
from scim_conformance.outcomes import ExitCode


def run_cleanup(args: argparse.Namespace) -> int:
    """The same token, TLS and OAuth options as `run`, so a run can be cleaned with its own credentials."""
    if not args.journal and not args.prefix:
        print("scim-conformance cleanup: give --journal FILE or --prefix P", file=sys.stderr)
        return ExitCode.USAGE
    connection = from_namespace(Connection, args)
    try:
        return _cleanup(args, connection)
    except OptionError as exc:
        print(f"scim-conformance cleanup: {exc}", file=sys.stderr)
        return ExitCode.USAGE


def _cleanup(args: argparse.Namespace, connection: Connection) -> int:
    token = connection.token()
    base_url = args.scim_url
    targets: list[tuple[str, str, str]] = []
    run_prefix: str | None = None
    unconfirmed: list[tuple[str, str]] = []
    if args.journal:
        try:
            journal_url, run_prefix, targets = leftovers(args.journal)
            unconfirmed = unconfirmed_creates(args.journal)
        except OSError as exc:
            print(f"scim-conformance cleanup: {args.journal}: {exc.strerror}", file=sys.stderr)
            return ExitCode.USAGE
        base_url = base_url or journal_url
    if not base_url or not (token or connection.oauth_token_url):
        print("scim-conformance cleanup: need the SCIM URL (--scim-url or the journal) and a token "
              f"(${args.scim_token_env}, --scim-token-file or --oauth-token-url)", file=sys.stderr)
        return ExitCode.USAGE
    if args.prefix and len(args.prefix) < MIN_PREFIX:
        # Prefixes are generated as scimc<hex>; anything shorter could match a real person's name.
        print(f"scim-conformance cleanup: --prefix must be a run prefix (at least {MIN_PREFIX} characters)",
              file=sys.stderr)
        return ExitCode.USAGE
    client = ScimClient(base_url, token, verify=connection.verify, timeout=connection.timeout,
                        token_provider=connection.token_provider())
    try:
        if run_prefix and unconfirmed:
            targets += in_flight_creates(client, run_prefix, unconfirmed, targets)
        if args.prefix:
            targets += _by_prefix(client, args.prefix)
            if not args.yes:
                for endpoint, resource_id, name in targets:
                    print(f"would delete {endpoint}/{resource_id} {name}")
                print(f"{len(targets)} resource(s) match prefix {args.prefix!r}; run again with --yes to delete")
                return 0
        failures = 0
        prefixes = [p for p in (run_prefix, args.prefix) if p]
        for endpoint, resource_id, name in targets:
            refusal = not_ours(client, endpoint, resource_id, prefixes)
            if refusal == GONE:
                print(f"already gone {endpoint}/{resource_id} {name}".rstrip())
                continue
            if refusal:
                failures += 1
                print(f"LEFT ALONE {endpoint}/{resource_id}: {refusal}"[:300])
                continue
            exchange = client.delete(f"{endpoint}/{resource_id}")
            if exchange.status in (200, 204, 404):
                print(f"deleted {endpoint}/{resource_id} {name}".rstrip())
            else:
                failures += 1
                print(f"FAILED {endpoint}/{resource_id}: {exchange.status} {exchange.response_body or ''}"[:300])
        print(f"cleanup: {len(targets) - failures} removed, {failures} failed or left alone")
        return ExitCode.FAILED if failures else ExitCode.OK
    except TransportError as exc:
        print(f"scim-conformance cleanup: {exc}", file=sys.stderr)
        return ExitCode.UNUSABLE


MIN_PREFIX = 6
GONE = "gone"


def _by_prefix(client: ScimClient, prefix: str) -> list[tuple[str, str, str]]:
    found = []
    for endpoint, attribute in (("/Users", "userName"), ("/Groups", "displayName")):
        # Renaming checks put a word in front (`renamed.<prefix>-…`), so `co` finds more than `sw`; a server
        # without `co` still gets the `sw` query.
        for operator in ("co", "sw"):
            exchange = client.get(endpoint, params={"filter": f'{attribute} {operator} "{prefix}-"', "count": 1000})
            data = exchange.json if isinstance(exchange.json, dict) else {}
            if exchange.status == 200 and isinstance(data.get("Resources", []), list):
                break
        for resource in data.get("Resources") or []:
            name = str(resource.get(attribute, ""))
            if _carries(name, [prefix]):
                found.append((endpoint, resource["id"], name))
    return found


def _carries(name: str, prefixes: list[str]) -> bool:
    """Does a name carry a run prefix (at its start, or after a renaming check's word and a dot)?"""
    lowered = name.lower()
    return any(lowered.startswith(f"{p.lower()}-") or f".{p.lower()}-" in lowered for p in prefixes)


def not_ours(client: ScimClient, endpoint: str, resource_id: str, prefixes: list[str]) -> str | None:
    """None if the resource is still one of this run's; GONE if it no longer exists; else why it is left alone.

    A journal names ids, and ids can change hands: a server that numbers its resources may give a deleted
    run user's id to a new, real person, and `--scim-url` may point the journal at another server. So the
    resource is read first and deleted only if its name still carries the run prefix.
    """
    attribute = NAME_ATTRIBUTE.get(endpoint)
    if attribute is None or not prefixes:
        return f"cannot tell whether {endpoint}/{resource_id} is this run's"
    exchange = client.get(f"{endpoint}/{resource_id}")
    if exchange.status == 404:
        return GONE
    data = exchange.json if isinstance(exchange.json, dict) else None
    if exchange.status != 200 or data is None:
        return f"could not read it first ({exchange.status})"
    name = str(data.get(attribute, ""))
    if not _carries(name, prefixes):
        return f"its {attribute} is {name!r}, which is not this run's (prefix {', '.join(prefixes)})"
    return None


NAME_ATTRIBUTE = {"/Users": "userName", "/Groups": "displayName"}


def unconfirmed_creates(path: Path) -> list[tuple[str, str]]:
    """(endpoint, name) of each create the journal announced (`intend`) and never confirmed (`created`).

    A kill that lands while the POST is in flight leaves exactly this: the server made the resource, the run
    never learnt its id. The name is the run's own (it carries the run prefix), so it can be looked up.
    """
    pending: dict[tuple[str, str], int] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by the kill
        key = (str(record.get("endpoint", "")), str(record.get("name", "")))
        if record.get("event") == "intend":
            pending[key] = pending.get(key, 0) + 1
        elif record.get("event") == "created" and pending.get(key):
            pending[key] -= 1
    return [key for key, count in pending.items() if count > 0]


def in_flight_creates(client: ScimClient, prefix: str, unconfirmed: list[tuple[str, str]],
                      known: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The resources behind unconfirmed creates: exact name match, and only names under this run's prefix."""
    found: list[tuple[str, str, str]] = []
    seen = {(endpoint, resource_id) for endpoint, resource_id, _name in known}
    for endpoint, name in unconfirmed:
        attribute = NAME_ATTRIBUTE.get(endpoint)
        if attribute is None or not _carries(name, [prefix]):
            continue  # never look up anything that is not unmistakably this run's
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        exchange = client.get(endpoint, params={"filter": f'{attribute} eq "{quoted}"'})
        data = exchange.json if isinstance(exchange.json, dict) else {}
        for resource in data.get("Resources") or []:
            if not isinstance(resource, dict) or not isinstance(resource.get("id"), str):
                continue
            if str(resource.get(attribute, "")).lower() != name.lower() or (endpoint, resource["id"]) in seen:
                continue
            seen.add((endpoint, resource["id"]))
            found.append((endpoint, resource["id"], name))
    return found


def sweep(client: ScimClient, journal: Journal) -> list[str]:
    """Delete whatever the journal says its run created and did not remove (creates cut off in flight
    included); the lines saying what could not be removed."""
    from scim_conformance.resources import remove

    if journal.path is None or not journal.path.exists():
        return []
    failures: list[str] = []
    _url, prefix, left = leftovers(journal.path)
    if prefix:
        # A create cut off in flight (SIGTERM while waiting for the answer) is journalled without its id.
        try:
            left += in_flight_creates(client, prefix, unconfirmed_creates(journal.path), left)
        except TransportError as exc:
            failures.append(f"looking up creates cut off in flight: {exc}")
    for endpoint, resource_id, _name in left:
        failure = remove(client, journal, endpoint, resource_id)
        if failure:
            failures.append(failure)
    return failures
