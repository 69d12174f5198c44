"""``scim-conformance serve``: run the reference server in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .defects import DEFECTS
from .quirks import QUIRKS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    parser.add_argument(
        "--token",
        default=None,
        help="bearer token clients must send (default: $SCIM_TOKEN, else a random token printed to stderr)",
    )
    parser.add_argument("--db", default=":memory:", help="SQLite database file (default: in memory)")
    parser.add_argument(
        "--defect",
        dest="defects",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="switch on a defect (repeatable); see --list-defects",
    )
    parser.add_argument("--rate-limit", type=float, default=None, metavar="RPS",
                        help="answer 429 with Retry-After beyond this many requests per second (default: never)")
    parser.add_argument("--list-defects", action="store_true", help="list the defect switches and exit")
    parser.add_argument(
        "--quirk",
        dest="quirks",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="switch on a legal quirk (repeatable); see --list-quirks",
    )
    parser.add_argument("--list-quirks", action="store_true", help="list the legal-quirk switches and exit")


def run(args: argparse.Namespace) -> int:
    for listing, table in ((args.list_defects, DEFECTS), (args.list_quirks, QUIRKS)):
        if listing:
            width = max(len(name) for name in table)
            for name, description in table.items():
                print(f"{name:<{width}}  {description}")
            return 0
    from .httpd import ReferenceServer  # only now: the parser above is built for every command

    token = args.token or os.environ.get("SCIM_TOKEN") or None
    try:
        server = ReferenceServer(host=args.host, port=args.port, token=token, db=args.db, defects=args.defects,
                                 quirks=args.quirks, rate_limit=args.rate_limit)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    # SIGTERM (a test harness, a container runtime) and Ctrl-C both end the server through this event, set up
    # before the URL is printed: a caller may signal as soon as it has read the URL, before the loop below.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    print(server.base_url, flush=True)
    if token is None:
        # A generated token has to reach the user somehow; a given one is never echoed.
        print(f"bearer token: {server.token}", file=sys.stderr, flush=True)
    if args.defects:
        print(f"defects on: {', '.join(args.defects)}", file=sys.stderr, flush=True)
    if args.quirks:
        print(f"quirks on: {', '.join(args.quirks)}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scim_conformance.server", description="Run the reference SCIM 2.0 server."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
