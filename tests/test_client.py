"""ScimClient over a stubbed transport (`responses`): recording, redaction, pacing, no redirects followed."""

from __future__ import annotations

import json

import pytest
import responses
from urllib3.util import SKIP_HEADER

from scim_conformance.client import REDACTED, ScimClient, TransportError

BASE = "https://scim.example.test/scim/v2"
TOKEN = "tok-3f9a1c7e5b2d4a6f8e0c"


@pytest.fixture
def client():
    return ScimClient(BASE, TOKEN, headers={"Content-Type": "application/scim+json"}, secrets=["s3cr3t-client"])


@responses.activate
def test_exchange_recorded_and_token_redacted(client):
    responses.get(f"{BASE}/Users", json={"echo": TOKEN}, status=200, content_type="application/scim+json")
    client.begin()
    exchange = client.get("/Users", params={"filter": 'userName eq "a b"'})
    assert exchange.status == 200 and exchange.path == "/Users"
    assert exchange.url.endswith("?filter=userName%20eq%20%22a%20b%22")
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"  # the server gets the real token
    recorded = json.dumps([e.as_dict() for e in client.take()])
    assert TOKEN not in recorded
    assert f"Bearer {REDACTED}" in recorded and f'"echo": "{REDACTED}"' in exchange.response_body.replace("'", '"')
    assert client.take() == [] and client.run_requests == 1


@responses.activate
def test_curl_line_leaves_token_to_the_shell(client):
    responses.post(f"{BASE}/Users", json={"id": "1"}, status=201)
    exchange = client.post("/Users", {"userName": "a"})
    line = exchange.curl()
    assert '"Authorization: Bearer $SCIM_TOKEN"' in line and TOKEN not in line
    assert "--data-binary" in line and "-X POST" in line


@responses.activate
def test_other_secrets_redacted_also_url_encoded(client):
    responses.get(f"{BASE}/Users", body="client_secret=s3cr3t-client", status=400)
    exchange = client.get("/Users", query="x=s3cr3t-client")
    assert "s3cr3t-client" not in exchange.url + (exchange.response_body or "")


@responses.activate
def test_secrets_in_header_values_are_redacted_there_and_nowhere_else(client):
    # Many secrets (an Okta run adds each created user's password) are looked for in all values at once.
    for n in range(300):
        client.redact.add(f"pw-{n:04d}-Zq!")
    responses.get(f"{BASE}/Users", json={}, status=200,
                  headers={"X-Echo": "pw-0123-Zq!", "Set-Cookie": f"sid={TOKEN}; Path=/", "X-Plain": "pw-12"})
    exchange = client.get("/Users", headers={"X-Note": "sent pw-0299-Zq! here"})
    assert exchange.response_headers["X-Echo"] == REDACTED
    assert exchange.response_headers["Set-Cookie"] == f"sid={REDACTED}; Path=/"
    assert exchange.response_headers["X-Plain"] == "pw-12"
    assert exchange.request_headers["X-Note"] == f"sent {REDACTED} here"
    assert exchange.request_headers["User-Agent"].startswith("scim-conformance/")


@responses.activate
def test_redirect_is_recorded_not_followed(client):
    responses.get(f"{BASE}/Users", status=302, headers={"Location": "https://elsewhere.example.test/steal"})
    responses.get("https://elsewhere.example.test/steal", status=200)
    exchange = client.get("/Users")
    assert exchange.status == 302 and len(responses.calls) == 1


@responses.activate
def test_token_none_sends_no_authorization_and_header_none_removes_default(client):
    responses.get(f"{BASE}/Users", status=401)
    client.get("/Users", token=None, headers={"User-Agent": None})
    sent = responses.calls[0].request.headers
    assert "Authorization" not in sent
    assert sent.get("User-Agent") in (None, SKIP_HEADER)  # urllib3 sends no User-Agent for SKIP_HEADER


@responses.activate
def test_429_is_retried_after_retry_after(client):
    responses.get(f"{BASE}/Users", status=429, headers={"Retry-After": "0"})
    responses.get(f"{BASE}/Users", status=200, json={})
    exchange = client.get("/Users")
    assert exchange.status == 200 and exchange.retries == 1 and client.findings == []


@responses.activate
def test_429_without_retry_after_is_a_finding(client, monkeypatch):
    monkeypatch.setattr("scim_conformance.client.time.sleep", lambda s: None)
    responses.get(f"{BASE}/Users", status=429)
    exchange = client.get("/Users")
    assert exchange.status == 429 and exchange.retries == 3
    assert "429 without a usable Retry-After" in client.findings[0]


@responses.activate
def test_oversized_body_is_a_transport_error(client, monkeypatch):
    monkeypatch.setattr("scim_conformance.client.MAX_RESPONSE_BYTES", 1000)
    responses.get(f"{BASE}/Users", body="x" * 5000, status=200)
    with pytest.raises(TransportError) as caught:
        client.get("/Users")
    assert caught.value.kind == "oversized" and "larger than" in str(caught.value)
    assert caught.value.exchange.error


def test_connection_refused_is_one_line():
    client = ScimClient("http://127.0.0.1:9/scim/v2", TOKEN, timeout=2)
    with pytest.raises(TransportError) as caught:
        client.get("/Users")
    assert caught.value.kind == "unreachable"
    assert str(caught.value) == "GET http://127.0.0.1:9/scim/v2/Users: connection refused"
