"""A catalogue of hostile HTTP servers on 127.0.0.1, for the safety self-tests.

Each one misbehaves in exactly one way a real endpoint (or something pretending to be one) can: HTML instead
of JSON, a body that never ends, a socket that never answers, a reset, a redirect elsewhere. All of them
record what they received (so a test can say "the Authorization header never reached the redirect target")
and stop promptly even while a handler is stuck in its misbehaviour: every wait and every endless loop
watches one `stopping` event.

    with hostile("silent") as server:
        ... server.base_url ... server.requests ...
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

BIG_BODY_BYTES = 50 * 1024 * 1024
SILENCE_S = 60.0
EMPTY_LIST = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
              "Resources": [], "startIndex": 1, "itemsPerPage": 0}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], options: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.options = options
        self.stopping = threading.Event()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.workers: list[threading.Thread] = []
        self.connections: list[socket.socket] = []
        self.accepted = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        # Kept so that stop() can wait for the stuck handlers to notice `stopping` and return.
        worker = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        with self.lock:
            self.workers = [w for w in self.workers if w.is_alive()] + [worker]
            self.connections.append(request)
            self.accepted += 1
        worker.start()

    def close_connections(self) -> None:
        # A handler idling on a kept-alive connection waits for the next request line; a shutdown wakes it.
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Base(BaseHTTPRequestHandler):
    """Reads the whole request (so the client is never cut off while still sending), then misbehaves."""

    protocol_version = "HTTP/1.1"
    server: _Server
    behaviour: ClassVar[str] = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else None  # kept for the proxy to pass on
        with self.server.lock:
            self.server.received.append(Received(self.command, self.path, dict(self.headers.items())))

    def _handle(self) -> None:
        self._record()
        if self.server.options.get("after_preflight") and len(self.server.received) == 1:
            # The first request (the preflight probe) gets a correct answer, so the checks themselves meet the fault.
            self.send_json(200, EMPTY_LIST)
            return
        try:
            self.misbehave()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True  # the client gave up on us, as it should

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def misbehave(self) -> None:
        raise NotImplementedError

    def send_body(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, data: Any) -> None:
        self.send_body(status, "application/scim+json", json.dumps(data).encode())

    @property
    def authorization(self) -> str:
        return self.headers.get("Authorization", "")


class Html(_Base):
    """A marketing site (or a login page) where the SCIM endpoint should be; it echoes the credentials back."""

    def misbehave(self) -> None:
        body = f"<html><body><h1>Welcome</h1><!-- you sent {self.authorization} --></body></html>"
        self.send_body(200, "text/html; charset=utf-8", body.encode())


class InvalidJson(_Base):
    """Claims SCIM JSON and sends something that does not parse (with the token inside it)."""

    def misbehave(self) -> None:
        body = '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Reso'
        self.send_body(200, "application/scim+json", (body + self.authorization).encode())


class HugeBody(_Base):
    """Announces and starts sending a 50 MB body; a client must stop reading long before the end."""

    def misbehave(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(BIG_BODY_BYTES))
        self.end_headers()
        block = b'{"pad": "' + b"x" * 65000 + b'"}\n'
        sent = 0
        while sent < BIG_BODY_BYTES and not self.server.stopping.is_set():
            chunk = block[: BIG_BODY_BYTES - sent]
            self.wfile.write(chunk)
            sent += len(chunk)


class Silent(_Base):
    """Takes the request and says nothing for a minute (a hung backend behind a load balancer)."""

    def misbehave(self) -> None:
        self.server.stopping.wait(SILENCE_S)
        self.close_connection = True


class Reset(_Base):
    """Takes the request and resets the TCP connection (RST, not an orderly close)."""

    def misbehave(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.close()


class Redirect(_Base):
    """Sends every request on to another origin (options["location"]), where the token must not follow."""

    def misbehave(self) -> None:
        location = self.server.options["location"] + self.path
        self.send_body(302, "text/plain", b"moved", {"Location": location})


class ServerError(_Base):
    """500 on everything, with a SCIM error whose detail and headers quote the caller's credentials."""

    def misbehave(self) -> None:
        detail = f"internal error while handling {self.command} {self.path} for {self.authorization}"
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500",
                           "detail": detail}).encode()
        self.send_body(500, "application/scim+json", body, {"X-Debug-Auth": self.authorization})


class EndlessChunks(_Base):
    """A chunked 200 that never ends; options["pause"] seconds between chunks (0: as fast as the socket takes)."""

    def misbehave(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b'{"Resources": [' + b'{"id": "x"},' * 400
        pause = float(self.server.options.get("pause", 0.0))
        while not self.server.stopping.is_set():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            if pause:
                self.server.stopping.wait(pause)
        self.close_connection = True


class Trickle(_Base):
    """Drip-feeds its answer one byte at a time (options["part"]: "headers" or "body"), never idle long enough
    for a socket read timeout to fire: only a deadline on the whole exchange ends it."""

    def misbehave(self) -> None:
        body = json.dumps(EMPTY_LIST).encode() * 2000
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: {len(body)}\r\n"
                + "X-Padding: " + "p" * 4000 + "\r\n\r\n").encode()
        slow, fast = (head, b"") if self.server.options.get("part") == "headers" else (body, head)
        self.wfile.write(fast)
        # options["give_up_after"] ends the drip (and the connection), so a client without a deadline fails a
        # test instead of hanging it.
        give_up = time.monotonic() + float(self.server.options.get("give_up_after", SILENCE_S))
        for index in range(len(slow)):
            if self.server.stopping.wait(float(self.server.options.get("pause", 0.1))) or time.monotonic() > give_up:
                break
            self.wfile.write(slow[index:index + 1])
            self.wfile.flush()
        self.close_connection = True


class RateLimited(_Base):
    """429 on everything, asking to come back after options["retry_after"] seconds (3600 by default)."""

    def misbehave(self) -> None:
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "429",
                           "detail": "Too many requests"}).encode()
        self.send_body(429, "application/scim+json", body,
                       {"Retry-After": str(self.server.options.get("retry_after", 3600))})


class Recorder(_Base):
    """A well-behaved bystander (the redirect target): answers an empty ListResponse and remembers what it saw."""

    def misbehave(self) -> None:
        self.send_json(200, EMPTY_LIST)


class Proxy(_Base):
    """Not hostile itself: forwards to options["upstream"] (an origin) and records every request on the way;
    the last path segments in options["not_found"] are answered 404 instead.

    With options["hold"] = (method, n, event), the n-th request with that method is forwarded, so the upstream
    acts on it, but its answer is held back (the event is set): the caller can kill the client while the
    request is in flight, after it took effect and before the client heard of it.
    """

    def misbehave(self) -> None:
        if urlsplit(self.path).path.rsplit("/", 1)[-1] in self.server.options.get("not_found", ()):
            # A server that does not serve a discovery endpoint ("not_found": ("Schemas",)): 404, as many do.
            self.send_json(404, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"})
            return
        upstream = urlsplit(self.server.options["upstream"])
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection.request(self.command, self.path, body=self.body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        hold = self.server.options.get("hold")
        if hold and self.command == hold[0]:
            with self.server.lock:
                seen = sum(1 for r in self.server.received if r.method == hold[0])
            if seen == hold[1]:
                hold[2].set()
                self.server.stopping.wait(SILENCE_S)
                self.close_connection = True
                return
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


CATALOGUE: dict[str, type[_Base]] = {
    "proxy": Proxy,
    "html": Html,
    "invalid-json": InvalidJson,
    "huge-body": HugeBody,
    "silent": Silent,
    "reset": Reset,
    "redirect": Redirect,
    "server-error": ServerError,
    "endless-chunks": EndlessChunks,
    "trickle": Trickle,
    "rate-limited": RateLimited,
    "recorder": Recorder,
}


class HostileServer:
    def __init__(self, kind: str, **options: Any) -> None:
        self.kind = kind
        self._httpd = _Server(CATALOGUE[kind], options)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"hostile-{kind}", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/scim/v2"

    @property
    def requests(self) -> list[Received]:
        with self._httpd.lock:
            return list(self._httpd.received)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wake every stuck handler, and wait for them (a few seconds at most)."""
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        with self._httpd.lock:
            workers = list(self._httpd.workers)
        for worker in workers:
            worker.join(timeout=5)
        self._thread.join(timeout=5)

    @property
    def connections_accepted(self) -> int:
        with self._httpd.lock:
            return self._httpd.accepted

    @property
    def stuck_workers(self) -> int:
        with self._httpd.lock:
            return sum(1 for w in self._httpd.workers if w.is_alive())


@contextlib.contextmanager
def hostile(kind: str, **options: Any) -> Iterator[HostileServer]:
    server = HostileServer(kind, **options).start()
    try:
        yield server
    finally:
        server.stop()
