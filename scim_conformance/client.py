"""ScimClient: the one HTTP client every check talks through.

It sends the profile's headers, records every exchange into the transcript of the running check, and
redacts the bearer token (and any other configured secret) from everything it records, so that no
report, log or message built from a transcript can leak it.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection
from urllib3.util import SKIP_HEADER

from scim_conformance import __version__

REDACTED = "[REDACTED]"
DEFAULT_USER_AGENT = f"scim-conformance/{__version__}"
# A SCIM answer is small; anything past this is a broken or hostile server, not a resource.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_429_RETRIES = 3
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_RETRY_AFTER_SECONDS = 10.0
_OMIT = object()


class TransportError(Exception):
    """The request did not get an HTTP answer (refused, reset, timed out, TLS, oversized): a harness-side fault."""

    def __init__(self, message: str, kind: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.kind = kind
        self.exchange = exchange


@dataclass
class Exchange:
    """One request and its response, as recorded (already redacted)."""

    method: str
    url: str
    path: str  # relative to the SCIM base URL, without the query
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    reason: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed_ms: float = 0.0
    started: float = 0.0  # Unix time the request first went out (a HAR entry's startedDateTime)
    error: str | None = None
    retries: int = 0
    partial: bool = False  # the request asked for a subset of attributes
    # The check withheld the run's token (none, or a wrong one) on purpose: the refusal is its own subject.
    credentials_withheld: bool = False
    _json: Any = field(default=_OMIT, repr=False)

    @property
    def json(self) -> Any:
        """The parsed response body, or None when it is empty or not JSON."""
        if self._json is _OMIT:
            try:
                self._json = json.loads(self.response_body) if self.response_body else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.response_headers.items() if k.lower() == "content-type"), "")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.response_headers.items() if k.lower() == name.lower()), None)

    def curl(self) -> str:
        """A command that replays this request, with the token left to the shell."""
        parts = ["curl", "-sS", "-X", self.method]
        for name, value in self.request_headers.items():
            if name.lower() == "authorization" and REDACTED in value:
                value = 'Bearer "$SCIM_TOKEN"'
                parts += ["-H", f"Authorization: {value}"]
                continue
            parts += ["-H", f"{name}: {value}"]
        if self.request_body is not None:
            parts += ["--data-binary", self.request_body]
        parts.append(self.url)
        line = " ".join(shlex.quote(p) for p in parts)
        # shlex quotes the header as a whole; let the shell expand $SCIM_TOKEN inside it.
        return line.replace("'Authorization: Bearer \"$SCIM_TOKEN\"'", '"Authorization: Bearer $SCIM_TOKEN"')

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": None if self.status is None else {
                "status": self.status,
                "reason": self.reason,
                "headers": self.response_headers,
                "body": self.response_body,
            },
            "error": self.error,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "started": round(self.started, 3),
            "retries": self.retries,
            "curl": self.curl(),
        }


@dataclass
class Answer:
    """An HTTP answer as a transport brings it back, before the client records it."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    encoding: str | None = None  # of the body's text, when the transport knows it

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


# A transport: (method, URL, headers, body, timeout) -> Answer, raising TransportError (with no exchange) when no
# answer came; `kind` says why: unreachable, timeout, tls, reset, oversized.
Transport = Callable[[str, str, dict[str, str], bytes | None, float], Answer]


class Redactor:
    """Replaces every configured secret in recorded text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)
            # A secret can also travel URL-encoded (a query string, a form body).
            encoded = quote(secret, safe="")
            if encoded != secret:
                self._secrets.append(encoded)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        clean, plain = {}, []
        for name, value in headers.items():
            if name.lower() in ("authorization", "proxy-authorization"):
                scheme = value.split(" ", 1)[0] if " " in value else ""
                clean[name] = f"{scheme} {REDACTED}".strip()
            else:
                clean[name] = value or ""
                plain.append(name)
        # One look for every secret in all the values at once, value by value only when one is there: an Okta run
        # adds the password of each user it creates, and ten headers times hundreds of secrets added up.
        joined = "\n".join(clean[name] for name in plain)
        if any(secret in joined for secret in self._secrets):
            for name in plain:
                clean[name] = self(clean[name]) or ""
        return clean


class ScimClient:
    """A requests.Session bound to one SCIM base URL and one bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        verify: bool | str = True,
        secrets: Iterable[str] = (),
        max_rps: float | None = None,
        user_agent: str | None = DEFAULT_USER_AGENT,
        token_provider: Callable[[], str] | None = None,
        read_only: bool = False,
        record: bool = True,
        retry_429: bool = True,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        # Called for the token of every request (e.g. oauth.ClientCredentials); used instead of `token`. If it
        # has `invalidate()`, a 401 to one of its tokens makes the client fetch a fresh one and retry once.
        self.token_provider = token_provider
        # A live tenant in --read-only mode: no request that could change anything leaves this client.
        self.read_only = read_only
        # A load run sends thousands of requests: it keeps its own measurements instead of a transcript, and
        # answers a 429 itself (the whole run waits, as Entra's job does) instead of this client sleeping.
        self.record = record
        self.retry_429 = retry_429
        # How the bytes travel: requests (the default), or a load run's Locust worker's own HTTP client.
        self.transport = transport
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = verify
        self.session.trust_env = False  # a proxy from the environment must never see the token
        _watch_connections(self.session)
        self.default_headers = dict(headers or {})
        if user_agent:
            self.default_headers.setdefault("User-Agent", user_agent)
        self.redact = Redactor([token or "", *secrets, *getattr(token_provider, "secrets", ())])
        self._min_interval = 1.0 / max_rps if max_rps else 0.0
        self._last_sent = 0.0
        self._lock = threading.Lock()
        self._transcript: list[Exchange] = []
        self.run_requests = 0
        self.findings: list[str] = []  # transport-level notes, e.g. a 429 without Retry-After
        self._throttled_out = False  # the last 429 survived every retry (see _send)

    # --- transcript -------------------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start the transcript of a new check."""
        self._transcript = []

    def take(self) -> list[Exchange]:
        """The exchanges recorded since `begin`, handing them over to the caller."""
        taken, self._transcript = self._transcript, []
        return taken

    @property
    def transcript(self) -> list[Exchange]:
        return list(self._transcript)

    # --- requests ---------------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        query: str | None = None,
        json_body: Any = _OMIT,
        data: str | bytes | None = None,
        headers: Mapping[str, str | None] | None = None,
        token: Any = _OMIT,
        partial: bool = False,
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request and record it.

        `query` is sent byte for byte (the IdP's own encoding of a filter); `params` are encoded by the
        dialect-neutral rules (spaces as %20). `token=None` sends no Authorization header; `headers` values
        of None remove a default header (e.g. the User-Agent).
        """
        # pytest prints a failing frame's arguments; this frame and _send hold the plain token, so they stay hidden.
        __tracebackhide__ = True
        if self.read_only and method.upper() in WRITE_METHODS and not path.rstrip("/").endswith("/.search"):
            from scim_conformance.outcomes import Outcome, stop  # only a check can send a write

            stop(Outcome.DISABLED, f"read-only: this check sends {method.upper()} {path.split('?')[0]}")
        merged: dict[str, str | None] = {**self.default_headers, **(headers or {})}
        from_provider = token is _OMIT and self.token_provider is not None
        bearer = self._provided_token() if from_provider else (self._token if token is _OMIT else token)
        if bearer is not None:
            merged["Authorization"] = f"Bearer {bearer}"
            self.redact.add(bearer)
        body: bytes | None = None
        if json_body is not _OMIT:
            body = json.dumps(json_body).encode()
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        if body is None:
            merged.pop("Content-Type", None)
        url = self.url(path)
        if params:
            query = "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in params.items())
        if query:
            url += ("&" if "?" in url else "?") + query
        send_headers = {k: v for k, v in merged.items() if v is not None}
        exchange = Exchange(
            method=method,
            url=self.redact(url) or url,
            path=urlsplit(self.url(path)).path[len(urlsplit(self.base_url).path):] or "/",
            request_headers=self.redact.headers(send_headers),
            request_body=self.redact(body.decode("utf-8", "replace")) if body is not None else None,
            partial=partial,
            credentials_withheld=token is not _OMIT,
        )
        self._send(exchange, method, url, send_headers, body, timeout or self.timeout)
        if from_provider and exchange.status == 401 and callable(getattr(self.token_provider, "invalidate", None)):
            # The token may have been revoked or expired early: one fresh token, one retry, both recorded.
            self.token_provider.invalidate()  # type: ignore[union-attr]
            fresh = self._provided_token()
            if fresh != bearer:
                again = self.request(method, path, query=query if not params else None, params=params,
                                     json_body=json_body, data=data, headers=headers, token=fresh, partial=partial,
                                     timeout=timeout)
                again.credentials_withheld = False  # the run's own (renewed) token
                return again
        return exchange

    def _provided_token(self) -> str:
        __tracebackhide__ = True
        assert self.token_provider is not None
        try:
            bearer = self.token_provider()
        except Exception as exc:
            # One line, as for a refused connection: the run (or preflight) says the token could not be had.
            message = self.redact(str(exc)) or type(exc).__name__
            raise TransportError(f"no access token: {message}", "auth",
                                 Exchange("POST", "(token endpoint)", "", {}, None, error=message)) from None
        self.redact.add(bearer)
        return bearer

    def _send(self, exchange: Exchange, method: str, url: str, headers: dict[str, str], body: bytes | None,
              timeout: float) -> None:
        __tracebackhide__ = True  # `headers` carries the plain token (see `request`)
        with self._lock:
            self.run_requests += 1
        if self.record:
            self._transcript.append(exchange)
        exchange.started = time.time()
        for attempt in range(MAX_429_RETRIES + 1):
            self._pace()
            started = time.monotonic()
            try:
                answer = (self.transport or self._over_requests)(method.upper(), url, headers, body, timeout)
            except TransportError as exc:
                exchange.elapsed_ms = (time.monotonic() - started) * 1000
                exchange.error = self.redact(str(exc)) or str(exc)
                raise TransportError(f"{method} {exchange.url}: {exchange.error}", exc.kind, exchange) from None
            exchange.elapsed_ms = (time.monotonic() - started) * 1000
            exchange.status = answer.status
            exchange.reason = answer.reason
            exchange.response_headers = self.redact.headers(answer.headers)
            exchange.response_body = self.redact(answer.body.decode(answer.encoding or "utf-8", "replace"))
            exchange._json = _OMIT
            if answer.status != 429 or not self.retry_429:
                self._throttled_out = False
                return
            if attempt == MAX_429_RETRIES or self._throttled_out:
                if not self._throttled_out:
                    # A server that still refuses after every retry would make each later request wait as long:
                    # until it answers anything but 429 again, its 429s are taken as they come.
                    self._throttled_out = True
                    self.findings.append(f"{method} {exchange.url}: still 429 after {MAX_429_RETRIES} retries; "
                                         "later 429s are not retried until the server answers otherwise")
                return
            retry_after = _retry_after_seconds(answer.header("Retry-After"))
            if retry_after is None:
                self.findings.append(f"{method} {exchange.url}: 429 without a usable Retry-After header")
                retry_after = 1.0
            if retry_after > MAX_RETRY_AFTER_SECONDS:
                # Waiting a part of what the server asks for would only earn another 429.
                self.findings.append(f"{method} {exchange.url}: 429 asking to wait {retry_after:.0f} s "
                                     f"(more than {MAX_RETRY_AFTER_SECONDS:.0f} s); not retried")
                return
            exchange.retries += 1
            time.sleep(retry_after)

    def _over_requests(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
                       timeout: float) -> Answer:
        """The client's own transport: requests, with one deadline over the whole exchange and a size limit."""
        __tracebackhide__ = True  # `headers` carries the plain token (see `request`)
        watch: _Watch | None = None  # set once the deadline runs (preparing the request can fail before)
        try:
            # What Session.prepare_request does, without copying the session's cookie jar and settings for
            # every request: the session's headers under ours, its cookie jar, its hooks.
            prepared = requests.PreparedRequest()
            prepared.prepare(method=method, url=url, headers={**self.session.headers, **headers},
                             data=body, cookies=self.session.cookies, hooks=self.session.hooks)
            prepared.url = url  # the query goes out exactly as built, not re-quoted
            if "User-Agent" not in headers:
                # urllib3 adds its own User-Agent unless told to skip it: the IdP sends none at all.
                prepared.headers["User-Agent"] = SKIP_HEADER
            started = time.monotonic()
            with _deadline(timeout * 3) as watch:
                response = self.session.send(prepared, timeout=timeout, allow_redirects=False, stream=True)
                raw = self._read_limited(response, started, timeout)
            if watch.fired:
                # Cut off mid-headers, http.client takes what it got for a complete (and wrong) answer.
                raise TransportError(f"no complete answer within {timeout * 3:.0f} s (the server drip-fed it)",
                                     "timeout", None)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            kind, text = describe_transport_error(exc)
            if watch is not None and watch.fired:
                kind, text = "timeout", f"no complete answer within {timeout * 3:.0f} s (the server drip-fed it)"
            raise TransportError(text, kind, None) from None  # type: ignore[arg-type]
        return Answer(response.status_code, response.reason or "", dict(response.headers), raw, response.encoding)

    @staticmethod
    def _read_limited(response: requests.Response, started: float, timeout: float) -> bytes:
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise TransportError(f"response body larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB",
                                         "oversized", None)  # type: ignore[arg-type]
                if time.monotonic() - started > timeout * 3:
                    raise TransportError(f"response body still streaming after {timeout * 3:.0f} s",
                                         "timeout", None)  # type: ignore[arg-type]
                chunks.append(chunk)
        finally:
            response.close()
        return b"".join(chunks)

    def _pace(self) -> None:
        if not self._min_interval:
            return
        with self._lock:
            wait = self._last_sent + self._min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_sent = time.monotonic()

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Exchange:
        return self.request("POST", path, json_body=body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> Exchange:
        return self.request("PUT", path, json_body=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Exchange:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()


# --- a deadline on the whole exchange ------------------------------------------------------------------------------
# requests' timeout bounds each socket read, so a server that drip-feeds one byte at a time (headers or body)
# never trips it. The connections record themselves per thread as they send, and a watchdog shuts the socket
# down once the whole exchange has taken too long, which wakes the blocked read with an error. One watchdog
# thread serves every exchange: a timer thread per request cost a thread start each, a sixth of a run.
_WATCH = threading.local()


class _Watch:
    def __init__(self) -> None:
        self.connection: Any = None
        self.fired = False
        self.over = False  # the exchange ended; a late abort must not touch a connection back in the pool
        self.lock = threading.Lock()

    def abort(self) -> None:
        with self.lock:
            sock = getattr(self.connection, "sock", None)
            if self.over or sock is None:
                return  # ended in time, or still connecting: the connect timeout covers that
            self.fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """Aborts each watched exchange that outlives its deadline, from one daemon thread."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Watch]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._order = itertools.count()  # ties on the deadline never compare two _Watch objects

    def watch(self, watch: _Watch, seconds: float) -> None:
        with self._wake:
            entry = (time.monotonic() + seconds, next(self._order), watch)
            heapq.heappush(self._due, entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="scim-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0] is entry:
                # Woken only for a deadline earlier than every other: waking it per request (to forget the
                # exchanges that ended) cost a thread switch each. Those are forgotten as they reach the top.
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._due and self._due[0][2].over:
                    heapq.heappop(self._due)  # ended in time: forget it
                if not self._due:
                    self._wake.wait()
                    continue
                late = self._due[0][0] - time.monotonic()
                if late > 0:
                    self._wake.wait(late)
                    continue
                watch = heapq.heappop(self._due)[2]
            watch.abort()  # outside the lock: new exchanges are not held up by a shutdown


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[_Watch]:
    watch = _Watch()
    _WATCH.current = watch
    _WATCHDOG.watch(watch, seconds)
    try:
        yield watch
    finally:
        with watch.lock:  # an abort in progress finishes before the connection can be reused
            watch.over = True
            _WATCH.current = None


class _Watched:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = getattr(_WATCH, "current", None)
        if watch is not None:
            watch.connection = self
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watch_connections(session: requests.Session) -> None:
    adapter = requests.adapters.HTTPAdapter()
    adapter.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def describe_transport_error(exc: requests.RequestException) -> tuple[str, str]:
    """(kind, one human line) for a request that got no HTTP answer."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls", f"TLS handshake failed ({_innermost(text)})"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timeout", "timed out while connecting"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timeout", "no answer within the request timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        lowered = text.lower()
        if "refused" in lowered:
            return "unreachable", "connection refused"
        if "name or service not known" in lowered or "nodename nor servname" in lowered or "resolve" in lowered:
            return "unreachable", "host name does not resolve"
        if "reset" in lowered or "aborted" in lowered or "remotedisconnected" in lowered:
            return "reset", "connection reset by the server"
        return "unreachable", f"connection failed ({_innermost(text)})"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return "reset", f"response broken off ({_innermost(text)})"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                  | requests.exceptions.InvalidSchema):
        return "usage", f"invalid URL ({text})"
    return "unreachable", _innermost(text)


def _innermost(text: str) -> str:
    # requests nests urllib3's reasons in parentheses; the last clause is the one a person can act on.
    for marker in ("Caused by ", "due to "):
        if marker in text:
            text = text.split(marker)[-1]
    return text.strip("()'\" ")[:200]
