"""RFC 7644 §3.4.2.2 filters and §3.4.3 search, when /ServiceProviderConfig advertises filter support.

Every query is scoped to this run (`userName sw "<run prefix>"`) and judged only on the resources this
check made, so that other data on a live tenant neither shows up in the report nor changes a verdict.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scim_conformance import expect
from scim_conformance.attributes import get_attribute
from scim_conformance.resources import plain_body
from scim_conformance.steps import advertised, text_attribute

requirement = pytest.mark.requirement
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


@pytest.fixture(autouse=True)
def _filter_advertised(service_provider_config):
    advertised(service_provider_config, "filter")


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _user(users, identities, **values: Any) -> dict[str, Any]:
    body = plain_body(identities.user_body())
    body.update(values)
    body = {k: v for k, v in body.items() if v is not None}  # None: this user has no value there
    return {**users.create(body), "userName": body["userName"]}


def _found(scim, rid: str, expression: str, scope: str, mine: dict[str, str]) -> set[str]:
    """The names (of `mine`: name -> id) that `expression`, scoped to the run, selects."""
    text = f'({expression}) and userName sw {_quoted(scope)}'
    exchange = scim.get("/Users", params={"filter": text, "attributes": "id"}, partial=True)
    ids = {r.get("id") for r in expect.list_response(exchange, rid)}
    return {name for name, resource_id in mine.items() if resource_id in ids}


def _select(scim, rid: str, scope: str, mine: dict[str, str], cases: list[tuple[str, set[str]]]) -> None:
    for expression, wanted in cases:
        got = _found(scim, rid, expression, scope, mine)
        if got != wanted:
            expect.fail(rid, f"{expression} to select {sorted(wanted) or 'none'} of {sorted(mine)}",
                        f"{sorted(got) or 'none'}", scim.transcript[-1])


@requirement("RFC-FILTER-OPERATORS")
def test_every_operator(scim, users, identities, declared):
    """A client selects among two users with each operator of Table 3, on strings, a boolean and emails."""
    text = text_attribute(declared)  # title, or another string attribute the server declares
    # `pr` needs a second string attribute only the first user has (nickName, or another declared one).
    present = declared.first("/Users", *(t for t in ("nickName", "title", "displayName") if t != text))
    home = f"{identities.prefix}-home@{identities.email_domain}"
    a = _user(users, identities, **{text: "Alpha Zulu", **({present: "Ace"} if present else {})},
              emails=[{"type": "work", "value": f"{identities.prefix}-a@{identities.email_domain}", "primary": True},
                      {"type": "home", "value": home}])
    b = _user(users, identities, **{text: "Bravo Zulu", **({present: None} if present else {})}, active=False)
    mine = {"A": a["id"], "B": b["id"]}
    presence = [(f"{present} pr", {"A"})] if present else []
    _select(scim, "RFC-FILTER-OPERATORS", identities.prefix, mine, [
        (f'{text} eq "Alpha Zulu"', {"A"}),
        (f'{text} ne "Alpha Zulu"', {"B"}),
        (f'{text} co "pha Zu"', {"A"}),
        (f'{text} sw "Bravo"', {"B"}),
        (f'{text} ew "Zulu"', {"A", "B"}),
        *presence,
        (f'{text} gt "Alpha Zulu"', {"B"}),
        (f'{text} ge "Bravo Zulu"', {"B"}),
        (f'{text} lt "Bravo Zulu"', {"A"}),
        (f'{text} le "Alpha Zulu"', {"A"}),
        ("active eq false", {"B"}),
        (f"emails.value eq {_quoted(home)}", {"A"}),
    ])


@requirement("RFC-FILTER-PRECEDENCE")
def test_precedence(scim, users, identities, declared):
    """A client combines conditions with or, and, not and parentheses."""
    t = text_attribute(declared)
    a = _user(users, identities, **{t: "Alpha Yankee"})
    b = _user(users, identities, **{t: "Bravo Yankee"})
    _select(scim, "RFC-FILTER-PRECEDENCE", identities.prefix, {"A": a["id"], "B": b["id"]}, [
        (f'{t} eq "Alpha Yankee" or {t} eq "Bravo Yankee" and {t} eq "none"', {"A"}),
        (f'({t} eq "Alpha Yankee" or {t} eq "Bravo Yankee") and {t} sw "Bravo"', {"B"}),
        (f'not ({t} eq "Alpha Yankee") and {t} ew "Yankee"', {"B"}),
    ])


@requirement("RFC-FILTER-CASE")
def test_case_insensitive_names_operators_and_values(scim, users, identities):
    """A client writes names and operators in capitals, and values in another case: userName (caseExact false)
    still matches, externalId (caseExact true) does not."""
    external_id = f"{identities.prefix}-Ext-{identities.unknown_id()[:8]}"
    user = _user(users, identities, externalId=external_id)
    mine = {"U": user["id"]}
    _select(scim, "RFC-FILTER-CASE", identities.prefix, mine, [
        (f"USERNAME Eq {_quoted(user['userName'])}", {"U"}),
        (f"userName eq {_quoted(user['userName'].swapcase())}", {"U"}),
        (f"externalId eq {_quoted(external_id)}", {"U"}),
        (f"externalId eq {_quoted(external_id.swapcase())}", set()),
    ])


@requirement("RFC-FILTER-VALUE-PATH")
def test_value_path(scim, users, identities):
    """A client looks a user up by its work email with a value path filter."""
    user = _user(users, identities)
    work = next(e["value"] for e in get_attribute(user, "emails") or [] if e.get("type") == "work")
    _select(scim, "RFC-FILTER-VALUE-PATH", identities.prefix, {"U": user["id"]}, [
        (f'emails[type eq "work" and value eq {_quoted(work)}]', {"U"}),
        (f'emails[type eq "home" and value eq {_quoted(work)}]', set()),
    ])


@requirement("RFC-FILTER-ENCODED-VALUES")
def test_reserved_characters(scim, users, identities, declared):
    """A client looks a user up by a title full of URL-reserved characters, percent-encoded in the query."""
    text = text_attribute(declared)
    title = 'R&D + Ops = 100% #1 "Q" %2B Zoë'
    user = _user(users, identities, **{text: title})
    _select(scim, "RFC-FILTER-ENCODED-VALUES", identities.prefix, {"U": user["id"]},
            [(f"{text} eq {_quoted(title)}", {"U"})])


@requirement("RFC-FILTER-INVALID")
def test_unknown_operator(scim):
    """A client sends a filter with an operator SCIM does not define."""
    exchange = scim.get("/Users", params={"filter": 'userName regex "^a"'})
    expect.status(exchange, "RFC-FILTER-INVALID", 400)
    scim_type = exchange.json.get("scimType") if isinstance(exchange.json, dict) else None
    expect.equal("RFC-FILTER-INVALID", "scimType", "invalidFilter", scim_type, exchange)


@requirement("RFC-SEARCH-POST")
def test_search_with_post(scim, groups, identities):
    """A client searches /Groups by displayName with POST /Groups/.search, then with GET."""
    rid = "RFC-SEARCH-POST"
    body = plain_body(identities.group_body())
    group = groups.create(body)
    text = f"displayName eq {_quoted(body['displayName'])}"
    got = scim.get("/Groups", params={"filter": text, "excludedAttributes": "members"}, partial=True)
    by_get = [r.get("id") for r in expect.list_response(got, rid)]
    if by_get != [group["id"]]:
        expect.blocked(f"GET /Groups?filter found {by_get}, not the group just created")
    posted = scim.post("/Groups/.search", {"schemas": [SEARCH_REQUEST], "filter": text,
                                           "excludedAttributes": ["members"]}, partial=True)
    by_post = [r.get("id") for r in expect.list_response(posted, rid)]
    expect.equal(rid, "ids found by POST .search", by_get, by_post, posted)
