"""The reference server's SQLite store on its own: lookups, order, memberships, transactions, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from scim_conformance.server.store import Store


def user(n: int, **extra: object) -> dict:
    return {"id": f"u{n}", "userName": f"User{n}@Example.test", "externalId": f"Ext{n}",
            "displayName": f"User {n}", **extra}


@pytest.fixture
def store():
    db = Store()
    yield db
    db.close()


def test_indexed_lookups(store: Store) -> None:
    store.insert_many("User", (user(n) for n in range(50)))
    assert [d["id"] for d in store.find("User", "userName", "USER7@EXAMPLE.TEST")] == ["u7"]
    assert [d["id"] for d in store.find("User", "externalId", "Ext7")] == ["u7"]
    assert store.find("User", "externalId", "ext7") == []  # externalId is case-exact
    assert [d["id"] for d in store.find("User", "displayName", "user 7")] == ["u7"]
    assert [d["id"] for d in store.find("User", "id", "u7")] == ["u7"]
    assert store.find("Group", "id", "u7") == []  # lookups stay within the resource type


def test_list_order_is_stable_across_updates(store: Store) -> None:
    for n in range(5):
        store.insert("User", user(n))
    store.update("User", user(1, title="changed"))
    assert [d["id"] for d in store.page("User", 0, 10)] == ["u0", "u1", "u2", "u3", "u4"]
    assert [d["id"] for d in store.page("User", 3, 10)] == ["u3", "u4"]
    assert store.count("User") == 5
    assert [d["id"] for d in store.scan("User")] == ["u0", "u1", "u2", "u3", "u4"]


def test_stale_user_name_index_on_request(store: Store) -> None:
    store.insert("User", user(1))
    store.update("User", user(1, userName="renamed@example.test"), keep_user_name_index=True)
    assert store.find("User", "userName", "renamed@example.test") == []
    assert store.find("User", "userName", "user1@example.test")[0]["userName"] == "renamed@example.test"


def test_memberships_follow_group_documents(store: Store) -> None:
    store.insert("User", user(1))
    store.insert("Group", {"id": "g1", "displayName": "G1", "members": [{"value": "u1"}]})
    store.insert("Group", {"id": "g2", "displayName": "G2", "members": [{"value": "u1"}, {"value": "u2"}]})
    assert [g["id"] for g in store.groups_with_member("u1")] == ["g1", "g2"]
    store.update("Group", {"id": "g1", "displayName": "G1", "members": []})
    assert [g["id"] for g in store.groups_with_member("u1")] == ["g2"]
    store.delete("Group", "g2")
    assert store.groups_with_member("u1") == [] and store.groups_with_member("u2") == []


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("User", user(1))
        raise RuntimeError("boom")
    assert store.get("User", "u1") is None
    with store.transaction():
        store.insert("User", user(2))
    assert store.get("User", "u2") is not None


def test_containing_escapes_like_wildcards(store: Store) -> None:
    store.insert("User", user(1, title="100% sure_thing"))
    store.insert("User", user(2, title="100 percent surexthing"))
    assert [d["id"] for d in store.containing("User", "100% sure_")] == ["u1"]


def test_file_database_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "scim.db")
    first = Store(path)
    first.insert("User", user(1))
    first.close()
    second = Store(path)
    try:
        assert second.get("User", "u1") == user(1)
        assert second.delete("User", "u1") and not second.delete("User", "u1")
    finally:
        second.close()
