"""OAuth 2.0 client credentials (RFC 6749 §4.4): a bearer token the run fetches, caches and renews itself.

Some SCIM endpoints take no long-lived token: the provisioning client holds a client id and secret and asks a
token endpoint for a short-lived access token. `ClientCredentials` is a token provider for `ScimClient`: call it
for the current token; it asks the endpoint again shortly before the token expires, or after the SCIM server
refused it (`invalidate`). The client secret and every token it hands out are secrets: ScimClient redacts them
from everything it records, and no message raised here ever contains them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from scim_conformance.client import Redactor, describe_transport_error

# Renew this long before the announced expiry, so that a token never dies between being handed out and
# reaching the server; short-lived tokens get a tenth of their life instead.
EXPIRY_MARGIN_S = 30.0
# A token endpoint answers a few hundred bytes; more is not an OAuth answer.
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


class OAuthError(Exception):
    """The token endpoint gave no usable token; the message is one line, with no secret in it."""


class ClientCredentials:
    """A token provider: `provider()` -> access token, fetched with the client credentials grant."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        timeout: float = 10.0,
        verify: bool | str = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.timeout = timeout
        self._clock = clock
        self._session = requests.Session()
        self._session.verify = verify
        self._session.trust_env = False  # as for the SCIM client: no proxy from the environment sees the secret
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at: float | None = None  # None: valid until the server refuses it
        self.redact = Redactor([client_secret])
        self.fetches = 0  # how many tokens were requested (the tests count renewals)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What a client using this provider must redact besides the tokens it is handed."""
        return (self._client_secret,)

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or (self._renew_at is not None and self._clock() >= self._renew_at):
                self._token, self._renew_at = self._fetch()
            return self._token

    def invalidate(self) -> None:
        """Forget the current token (the SCIM server answered 401 to it); the next call fetches a new one."""
        with self._lock:
            self._token = None

    def _fetch(self) -> tuple[str, float | None]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._client_secret}
        if self.scope:
            form["scope"] = self.scope
        self.fetches += 1
        asked = self._clock()
        try:
            response = self._session.post(self.token_url, data=form, timeout=self.timeout, allow_redirects=False,
                                          headers={"Accept": "application/json"}, stream=True)
            raw = _read_limited(response)
        except requests.RequestException as exc:
            _kind, text = describe_transport_error(exc)
            raise OAuthError(f"token endpoint {self.token_url}: {self.redact(text)}") from None
        data = _json_object(raw)
        if response.status_code != 200:
            # RFC 6749 §5.2: {"error": "invalid_client", "error_description": ...}; anything else is shown by status.
            reason = ""
            if data and isinstance(data.get("error"), str):
                reason = f": {data['error']}"
                if isinstance(data.get("error_description"), str):
                    reason += f" ({data['error_description'][:200]})"
            raise OAuthError(self.redact(f"token endpoint {self.token_url} answered {response.status_code}{reason}")
                             or "")
        token = data.get("access_token") if data else None
        if not isinstance(token, str) or not token:
            raise OAuthError(f"token endpoint {self.token_url} answered 200 without an access_token")
        self.redact.add(token)
        token_type = data.get("token_type") if data else None
        if isinstance(token_type, str) and token_type.lower() != "bearer":
            raise OAuthError(f"token endpoint {self.token_url} issued a {token_type!r} token, not a bearer token")
        return token, _renew_at(asked, data.get("expires_in") if data else None)


def _renew_at(asked: float, expires_in: Any) -> float | None:
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        return None  # no lifetime announced: use it until the server refuses it
    if lifetime <= 0:
        return asked  # already expired: fetch again next time
    # Counted from when we asked, not when the answer arrived: the token's clock started on the server meanwhile.
    return asked + lifetime - min(EXPIRY_MARGIN_S, lifetime / 10)


def _read_limited(response: requests.Response) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(8192):
            size += len(chunk)
            if size > MAX_TOKEN_RESPONSE_BYTES:
                raise OAuthError(f"token endpoint answer larger than {MAX_TOKEN_RESPONSE_BYTES // 1024} KiB")
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
