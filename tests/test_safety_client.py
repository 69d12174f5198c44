"""ScimClient's own guards for a live tenant: read-only refuses writes, 429s cannot stall a run, and an answer
drip-fed one byte at a time is cut off by a deadline on the whole exchange."""

from __future__ import annotations

import time

import pytest
import responses

from scim_conformance import client as client_module
from scim_conformance.client import ScimClient, TransportError
from tests.hostile import hostile

BASE = "https://scim.example.test/scim/v2"
TOKEN = "tok-guard-7a6b5c4d"


# --- read-only ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@responses.activate
def test_read_only_client_refuses_every_write(method):
    client = ScimClient(BASE, TOKEN, read_only=True)
    # A pytest skip whose reason the plugin reports as `disabled` (the "read-only:" prefix).
    with pytest.raises(pytest.skip.Exception, match=f"^read-only: this check sends {method} /Users/1$"):
        client.request(method, "/Users/1", json_body={})
    assert len(responses.calls) == 0 and client.run_requests == 0


@responses.activate
def test_read_only_client_still_reads_and_searches():
    responses.get(f"{BASE}/Users", json={"totalResults": 0})
    responses.post(f"{BASE}/Users/.search", json={"totalResults": 0})
    client = ScimClient(BASE, TOKEN, read_only=True)
    assert client.get("/Users").status == 200
    assert client.post("/Users/.search", {"filter": 'userName eq "x"'}).status == 200


# --- 429 ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    return slept


@responses.activate
def test_retry_after_beyond_the_cap_is_not_waited_for(sleeps):
    responses.get(f"{BASE}/Users", status=429, headers={"Retry-After": "3600"})
    client = ScimClient(BASE, TOKEN)
    exchange = client.get("/Users")
    assert exchange.status == 429 and exchange.retries == 0 and sleeps == []
    assert "asking to wait 3600 s" in client.findings[0]


@responses.activate
def test_after_one_exhausted_429_the_next_ones_are_not_retried_until_the_server_recovers(sleeps):
    responses.get(f"{BASE}/Users", status=429, headers={"Retry-After": "2"})
    client = ScimClient(BASE, TOKEN)
    assert client.get("/Users").retries == 3 and sleeps == [2.0, 2.0, 2.0]
    assert client.get("/Users").retries == 0 and len(responses.calls) == 5
    assert sum("still 429 after 3 retries" in f for f in client.findings) == 1
    # Any other answer ends it: the next 429 is honoured again.
    responses.replace(responses.GET, f"{BASE}/Users", json={"totalResults": 0})
    assert client.get("/Users").status == 200
    responses.replace(responses.GET, f"{BASE}/Users", status=429, headers={"Retry-After": "1"})
    assert client.get("/Users").retries == 3


# --- the deadline on a whole exchange ------------------------------------------------------------------------------
@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_drip_fed_answer_is_cut_off_at_three_timeouts(part):
    with hostile("trickle", part=part, pause=0.05, give_up_after=4) as server:
        client = ScimClient(server.base_url, TOKEN, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(TransportError) as raised:
            client.get("/Users")
        took = time.monotonic() - started
    assert raised.value.kind == "timeout" and "no complete answer within 1 s" in str(raised.value)
    assert 0.8 < took < 3.0


def test_the_deadline_does_not_touch_a_connection_that_answered_in_time():
    """Keep-alive still works after many quick exchanges, and no late timer shuts a reused connection down."""
    with hostile("recorder") as server:
        client = ScimClient(server.base_url, TOKEN, timeout=0.1)
        for _ in range(5):
            assert client.get("/Users").status == 200
        time.sleep(0.4)  # past every deadline of the requests above
        assert client.get("/Users").status == 200
        assert server.connections_accepted == 1, "the one kept-alive connection should have served every request"
