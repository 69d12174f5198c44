"""OAuth 2.0 client credentials, and ScimClient's token provider hook.

The token endpoint logic is tested against `responses` with a hand-driven clock; the whole path (token server ->
token -> SCIM request) over real sockets with a tiny token server on 127.0.0.1 in front of the reference server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pytest
import responses
from responses import matchers

from scim_conformance.client import REDACTED, ScimClient, TransportError
from scim_conformance.oauth import ClientCredentials, OAuthError
from scim_conformance.server import ReferenceServer

TOKEN_URL = "https://login.example.test/oauth2/token"
BASE = "https://scim.example.test/scim/v2"
CLIENT_ID = "scim-conformance-ci"
SECRET = "cl1ent-S3cret/with+odd=chars"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token_answer(token: str, expires_in: Any = 3600, **extra: Any) -> dict[str, Any]:
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, **extra}


# --- the token endpoint conversation ------------------------------------------------------------------------------
@responses.activate
def test_posts_the_client_credentials_form_and_caches_the_token():
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
            "scope": "api://scim/.default"}
    responses.post(TOKEN_URL, json=token_answer("at-1"), match=[matchers.urlencoded_params_matcher(form)])
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET, scope="api://scim/.default", clock=Clock())
    assert provider() == "at-1"
    assert provider() == "at-1"
    assert len(responses.calls) == 1 and provider.fetches == 1
    sent = responses.calls[0].request
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert f"client_secret={quote(SECRET, safe='')}" in sent.body  # encoded, so '+' and '/' survive the trip


@responses.activate
def test_no_scope_parameter_when_none_is_configured():
    responses.post(TOKEN_URL, json=token_answer("at-1"), match=[matchers.urlencoded_params_matcher(
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET})])
    assert ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET)() == "at-1"


@pytest.mark.parametrize(("expires_in", "still_cached_at", "renewed_at"), [
    (3600, 3569.0, 3570.0),  # a 30 s margin on a long-lived token
    (100, 89.9, 90.0),  # a tenth of the life of a short one
    ("120", 107.9, 108.0),  # expires_in as a string, as some servers send it
])
@responses.activate
def test_renews_shortly_before_expiry(expires_in, still_cached_at, renewed_at):
    responses.post(TOKEN_URL, json=token_answer("at-1", expires_in))
    responses.post(TOKEN_URL, json=token_answer("at-2", expires_in))
    clock = Clock()
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET, clock=clock)
    start = clock.now
    assert provider() == "at-1"
    clock.now = start + still_cached_at
    assert provider() == "at-1"
    clock.now = start + renewed_at
    assert provider() == "at-2"
    assert provider.fetches == 2


@responses.activate
def test_without_expires_in_the_token_lives_until_refused():
    responses.post(TOKEN_URL, json={"access_token": "at-1", "token_type": "bearer"})
    responses.post(TOKEN_URL, json={"access_token": "at-2", "token_type": "bearer"})
    clock = Clock()
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET, clock=clock)
    assert provider() == "at-1"
    clock.now += 10 * 86400
    assert provider() == "at-1"
    provider.invalidate()
    assert provider() == "at-2"


@pytest.mark.parametrize(("status", "body", "said"), [
    (401, {"error": "invalid_client", "error_description": f"bad secret {SECRET}"}, "answered 401: invalid_client"),
    (400, {"error": "invalid_scope"}, "answered 400: invalid_scope"),
    (500, "<html>oops</html>", "answered 500"),
    (302, "", "answered 302"),  # a redirect is not followed: the secret goes to the configured URL only
    (200, {"token_type": "Bearer"}, "without an access_token"),
    (200, {"access_token": "at-mac", "token_type": "mac"}, "not a bearer token"),
])
@responses.activate
def test_token_endpoint_failures_are_one_line_without_the_secret(status, body, said):
    kwargs: dict[str, Any] = {"json": body} if isinstance(body, dict) else {"body": body}
    headers = {"Location": "https://elsewhere.example.test/token"} if status == 302 else None
    responses.post(TOKEN_URL, status=status, headers=headers, **kwargs)
    responses.post("https://elsewhere.example.test/token", json=token_answer("stolen"))
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET)
    with pytest.raises(OAuthError) as raised:
        provider()
    message = str(raised.value)
    assert said in message and "\n" not in message
    assert SECRET not in message and quote(SECRET, safe="") not in message
    assert [c.request.url for c in responses.calls] == [TOKEN_URL]


# --- ScimClient with a token provider ------------------------------------------------------------------------------
@responses.activate
def test_client_sends_the_provided_token_and_redacts_token_and_secret():
    responses.post(TOKEN_URL, json=token_answer("at-9f8e7d6c5b"))
    # A careless server echoes both the token and the client secret.
    responses.get(f"{BASE}/Users", json={"seen": "Bearer at-9f8e7d6c5b", "debug": f"secret={SECRET}"})
    client = ScimClient(BASE, None, token_provider=ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET))
    client.begin()
    exchange = client.get("/Users")
    assert responses.calls[1].request.headers["Authorization"] == "Bearer at-9f8e7d6c5b"
    recorded = json.dumps([e.as_dict() for e in client.take()])
    for secret in ("at-9f8e7d6c5b", SECRET, quote(SECRET, safe="")):
        assert secret not in recorded
    assert exchange.json == {"seen": f"Bearer {REDACTED}", "debug": f"secret={REDACTED}"}


@responses.activate
def test_a_401_fetches_a_fresh_token_and_retries_once():
    responses.post(TOKEN_URL, json=token_answer("at-revoked"))
    responses.post(TOKEN_URL, json=token_answer("at-fresh"))
    responses.get(f"{BASE}/Users", status=401, match=[matchers.header_matcher({"Authorization": "Bearer at-revoked"})])
    responses.get(f"{BASE}/Users", json={"totalResults": 0},
                  match=[matchers.header_matcher({"Authorization": "Bearer at-fresh"})])
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET)
    client = ScimClient(BASE, None, token_provider=provider)
    client.begin()
    exchange = client.get("/Users", params={"filter": 'userName eq "x"'})
    assert exchange.status == 200 and provider.fetches == 2
    assert [e.status for e in client.take()] == [401, 200]  # both are in the transcript
    assert responses.calls[-1].request.url.endswith("?filter=userName%20eq%20%22x%22")


@responses.activate
def test_a_token_refused_twice_is_an_answer_not_a_loop():
    responses.post(TOKEN_URL, json=token_answer("at-1"))
    responses.post(TOKEN_URL, json=token_answer("at-2"))
    responses.get(f"{BASE}/Users", status=401)
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET)
    exchange = ScimClient(BASE, None, token_provider=provider).get("/Users")
    assert exchange.status == 401 and provider.fetches == 2
    assert len([c for c in responses.calls if c.request.url.startswith(BASE)]) == 2


@responses.activate
def test_an_explicit_token_is_never_retried():
    """The auth checks send a wrong token on purpose; their 401 must stay a 401."""
    responses.post(TOKEN_URL, json=token_answer("at-1"))
    responses.get(f"{BASE}/Users", status=401)
    provider = ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET)
    client = ScimClient(BASE, None, token_provider=provider)
    assert client.get("/Users", token="deliberately-wrong").status == 401
    assert client.get("/Users", token=None).status == 401
    assert provider.fetches == 0 and len(responses.calls) == 2


@responses.activate
def test_no_token_from_the_endpoint_is_a_transport_error_without_the_secret():
    responses.post(TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": SECRET})
    client = ScimClient(BASE, None, token_provider=ClientCredentials(TOKEN_URL, CLIENT_ID, SECRET))
    with pytest.raises(TransportError) as raised:
        client.get("/Users")
    assert raised.value.kind == "auth" and "invalid_client" in str(raised.value)
    assert SECRET not in str(raised.value) and SECRET not in (raised.value.exchange.error or "")
    assert not [c for c in responses.calls if c.request.url.startswith(BASE)]


# --- over real sockets -----------------------------------------------------------------------------------------------
class TokenServer:
    """A token endpoint on 127.0.0.1: checks the client credentials, then hands out the tokens it was given in turn."""

    def __init__(self, tokens: list[str], expires_in: int = 3600) -> None:
        self.tokens, self.expires_in = tokens, expires_in
        self.forms: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                outer.forms.append(form)
                if form.get("client_secret") != [SECRET] or form.get("grant_type") != ["client_credentials"]:
                    status, answer = 401, {"error": "invalid_client"}
                else:
                    token = outer.tokens[min(len(outer.forms), len(outer.tokens)) - 1]
                    status, answer = 200, token_answer(token, outer.expires_in)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oauth2/token"

    def __enter__(self) -> TokenServer:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def reference() -> Iterator[ReferenceServer]:
    with ReferenceServer(token="ref-T0ken-abcdef123456") as server:
        yield server


def test_real_sockets_token_server_then_scim_server(reference):
    with TokenServer([reference.token]) as tokens:
        client = ScimClient(reference.base_url, None,
                            token_provider=ClientCredentials(tokens.url, CLIENT_ID, SECRET, scope="scim"))
        client.begin()
        for _ in range(3):
            assert client.get("/Users", params={"filter": 'userName eq "nobody"'}).status == 200
        assert len(tokens.forms) == 1, "the token is cached"
        assert tokens.forms[0]["scope"] == ["scim"] and tokens.forms[0]["client_id"] == [CLIENT_ID]
        assert reference.token not in json.dumps([e.as_dict() for e in client.take()])


def test_real_sockets_a_stale_token_is_replaced_after_a_401(reference):
    """The first token the endpoint issues is not (or no longer) accepted; the second is."""
    with TokenServer(["stale-T0ken-000000", reference.token]) as tokens:
        client = ScimClient(reference.base_url, None, token_provider=ClientCredentials(tokens.url, CLIENT_ID, SECRET))
        client.begin()
        assert client.get("/Users").status == 200
        assert [e.status for e in client.take()] == [401, 200]
        assert len(tokens.forms) == 2
        assert client.get("/Users").status == 200 and len(tokens.forms) == 2


def test_real_sockets_an_expired_token_is_renewed_before_use(reference):
    with TokenServer([reference.token], expires_in=1) as tokens:
        clock = Clock()
        client = ScimClient(reference.base_url, None,
                            token_provider=ClientCredentials(tokens.url, CLIENT_ID, SECRET, clock=clock))
        assert client.get("/Users").status == 200
        clock.now += 1.0
        assert client.get("/Users").status == 200
        assert len(tokens.forms) == 2


def test_cli_run_with_oauth_client_credentials(reference, tmp_path):
    with TokenServer([reference.token]) as tokens:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SCIM_TOKEN"))}
        env["OAUTH_SECRET"] = SECRET
        done = subprocess.run(
            [sys.executable, "-m", "scim_conformance.cli", "run", "--scim-url", reference.base_url, "--report-dir",
             str(tmp_path), "--max-rps", "0", "--oauth-token-url", tokens.url, "--oauth-client-id", CLIENT_ID,
             "--oauth-client-secret-env", "OAUTH_SECRET", "--oauth-scope", "scim"],
            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert tokens.forms, "the run should have fetched its token"
    written = [p.read_text(encoding="utf-8", errors="replace") for p in Path(tmp_path).rglob("*") if p.is_file()]
    for secret in (SECRET, quote(SECRET, safe=""), reference.token):
        assert all(secret not in text for text in [done.stdout, done.stderr, *written])
