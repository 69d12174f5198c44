"""The transport: a threaded HTTP/1.1 server (standard library only) in front of ``ScimService``."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .defects import Defects
from .quirks import Quirks
from .schemas import MAX_PAYLOAD
from .service import Request, Response, ScimService
from .store import Store
from .throttle import Throttle

# Bodies a little over the limit are read and answered 413 on a live connection; beyond this the
# connection is closed after the answer rather than reading megabytes only to throw them away.
_DRAIN_LIMIT = 16 * MAX_PAYLOAD
# A header line past this many bytes, or more header fields than this, is answered 431 (a request line past it,
# 414, by http.server itself).
_MAX_LINE = 65536
_MAX_FIELDS = 100


class _BodyTooLarge(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scim-conformance-reference/0.1"
    # Small responses must not wait for the peer's delayed ACK (Nagle): send each write at once.
    disable_nagle_algorithm = True
    # A buffered writer: the status line, headers and body leave in one send when the handler flushes (after each
    # request, or in finish() after an error), not as two packets and two wake-ups of the client.
    wbufsize = -1
    # Idle keep-alive connections give their thread back after this many seconds.
    timeout = 30
    server: _HTTPServer
    raw_requestline: bytes  # set by http.server's handle_one_request before parse_request

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def parse_request(self) -> bool:
        """Read the request line and the header fields; False once an error has been answered.

        http.server does the same through the e-mail parser, which was a quarter of this server's time per
        request. The outcomes are http.server's: 400 for a malformed request line, 505 from HTTP/2 on, 431 for
        a line or a header block too large, HTTP/1.0 and `Connection: close` end the connection, 100-continue.
        One more: a header line that is not a field (no colon, or space before it) is 400, where http.server
        quietly ended the header block there.
        """
        self.command = ""  # no request line yet: send_error answers as to a GET
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) == 3:
            version = words[2]
            major, dot, minor = version[5:].partition(".")
            if not (version.startswith("HTTP/") and dot and major.isdigit() and minor.isdigit()
                    and len(major) <= 10 and len(minor) <= 10):
                self.send_error(400, f"bad request version ({version!r})")
                return False
            if int(major) >= 2:
                self.send_error(505, f"HTTP version {version[5:]} is not supported")
                return False
            self.request_version = version
            self.close_connection = (int(major), int(minor)) < (1, 1)
        elif len(words) != 2 or words[0] != "GET":  # two words: an HTTP/0.9 request, which can only be a GET
            self.send_error(400, f"bad request line ({self.requestline!r})")
            return False
        self.command, self.path = words[0], words[1]
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # never read as a scheme-relative URL
        fields: list[list[str]] = []
        while True:
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                self.send_error(431, "header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and fields:
                # A folded line continues the field before it (obsolete, RFC 9112 5.2): joined with a space.
                fields[-1][1] += " " + text.strip()
                continue
            if len(fields) >= _MAX_FIELDS:
                self.send_error(431, f"more than {_MAX_FIELDS} header fields")
                return False
            name, colon, value = text.partition(":")
            if not colon or not name or name != name.strip():  # RFC 9112 5.1: no space before the colon
                self.send_error(400, f"malformed header field ({text[:80]!r})")
                return False
            fields.append([name, value.strip()])
        headers = self.MessageClass()
        for name, value in fields:
            headers.set_raw(name, value)
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if headers.get("Expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def handle_expect_100(self) -> bool:
        # The interim answer must leave now, not with the final one: the client waits for it before the body.
        super().handle_expect_100()
        self.wfile.flush()
        return True

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a test run must not drown in access logs

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise ValueError("bad Content-Length")
        if length > MAX_PAYLOAD:
            if length <= _DRAIN_LIMIT:
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 65536))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            else:
                self.close_connection = True
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_PAYLOAD:
                self.close_connection = True
                raise _BodyTooLarge
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _dispatch(self) -> None:
        service = self.server.service
        target = self.path
        if target.lower().startswith(("http://", "https://")):
            # Absolute-form request targets (sent through some proxies) carry scheme and host first.
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        path, _, query = target.partition("?")
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self._write(service.error(413, f"the request body exceeds {MAX_PAYLOAD} bytes"))
            return
        except ValueError:
            self.close_connection = True
            self._write(service.error(400, "unreadable request body", "invalidSyntax"))
            return
        request = Request(
            method=self.command,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = service.handle(request)
        except Exception:
            response = service.error(500, "internal server error")
        self._write(response)

    def _write(self, response: Response) -> None:
        service = self.server.service
        if service.defects.on("slow-responses"):
            time.sleep(2)
        if isinstance(response.body, bytes):
            payload = response.body
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        content_type = response.content_type
        if content_type.startswith("application/scim+json") and service.defects.on("content-type-json"):
            content_type = "application/json"
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Protocol-level failures (bad request line, unknown method) get a SCIM Error body too.
        self.close_connection = True
        response = self.server.service.error(code, message or "bad request")
        if not getattr(self, "command", None):
            self.command = "GET"
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            # An unparseable request line leaves the default 0.9 version, which would suppress the headers.
            self.request_version = "HTTP/1.1"
        self._write(response)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    service: ScimService

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """End idle keep-alive connections, so that no worker outlives the server (or its database)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ReferenceServer:
    """The bundled SCIM 2.0 server, on real HTTP with SQLite storage, optionally with defects or quirks on.

    ``with ReferenceServer(defects=("filter-miss-404",)) as srv: requests.get(srv.base_url + "/Users", ...)``
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        db: str = ":memory:",
        defects: Iterable[str] = (),
        quirks: Iterable[str] = (),
        rate_limit: float | None = None,
    ) -> None:
        self.defects = Defects(defects)
        self.quirks = Quirks(quirks)
        # Requests per second before it answers 429 with Retry-After (None: never throttles).
        self.throttle = Throttle(rate_limit, self.defects) if rate_limit else None
        self.host = host
        self.port = port
        self.token = token or secrets.token_urlsafe(24)
        self.db = db
        self.store: Store | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}/scim/v2"

    @property
    def service(self) -> ScimService:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return self._httpd.service

    def start(self) -> ReferenceServer:
        if self._httpd is not None:
            return self
        store = Store(self.db)
        try:
            httpd = _HTTPServer((self.host, self.port), _Handler)
        except BaseException:
            store.close()
            raise
        self.port = httpd.server_address[1]
        self.store = store
        self._httpd = httpd
        httpd.service = ScimService(store, self.defects, self.token, self.base_url, self.throttle, self.quirks)
        # The socket listens from here on; the thread below accepts and hands connections to workers.
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="scim-reference-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
