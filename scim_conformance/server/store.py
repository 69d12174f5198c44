"""SQLite storage for SCIM resources: one connection behind one lock, documents as JSON.

Lookup columns (lower-cased userName and displayName, externalId) are indexed so that the lookups an IdP
makes before every write (``userName eq``, ``externalId eq``, ``displayName eq``) stay fast at 100k users.
The ``seq`` column gives every resource a stable place in list order that updates do not change.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    resource_type TEXT NOT NULL,
    user_name     TEXT,
    display_name  TEXT,
    external_id   TEXT,
    doc           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_user_name ON resources (resource_type, user_name);
CREATE INDEX IF NOT EXISTS resources_display_name ON resources (resource_type, display_name);
CREATE INDEX IF NOT EXISTS resources_external_id ON resources (resource_type, external_id);
CREATE INDEX IF NOT EXISTS resources_type_seq ON resources (resource_type, seq);
-- Group membership, mirrored from the groups' documents: "which groups is this user in" without a scan.
CREATE TABLE IF NOT EXISTS memberships (
    group_id  TEXT NOT NULL,
    member_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS memberships_member ON memberships (member_id);
CREATE INDEX IF NOT EXISTS memberships_group ON memberships (group_id);
"""

# The columns a filter may narrow on, by attribute name (lower case).
INDEXED_COLUMNS = {"id": "id", "username": "user_name", "displayname": "display_name", "externalid": "external_id"}


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        # One connection shared by the server's threads; the lock makes every use of it exclusive.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        with self.lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and make the statements inside commit together or not at all."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _row(self, resource_type: str, doc: dict[str, Any]) -> tuple[Any, ...]:
        return (
            doc["id"],
            resource_type,
            _lower(doc.get("userName")),
            _lower(doc.get("displayName")),
            _text(doc.get("externalId")),
            json.dumps(doc, separators=(",", ":")),
        )

    def _index_members(self, resource_type: str, doc: dict[str, Any]) -> None:
        if resource_type != "Group":
            return
        self._db.execute("DELETE FROM memberships WHERE group_id = ?", (doc["id"],))
        members = {m.get("value") for m in doc.get("members", []) if isinstance(m, dict)}
        self._db.executemany(
            "INSERT INTO memberships (group_id, member_id) VALUES (?, ?)",
            [(doc["id"], member) for member in members if isinstance(member, str)],
        )

    def insert(self, resource_type: str, doc: dict[str, Any]) -> None:
        with self.lock:
            self._db.execute(
                "INSERT INTO resources (id, resource_type, user_name, display_name, external_id, doc)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                self._row(resource_type, doc),
            )
            self._index_members(resource_type, doc)

    def insert_many(self, resource_type: str, docs: Iterable[dict[str, Any]]) -> None:
        """Bulk load (benchmarks, fixtures) in one transaction."""
        with self.transaction():
            for doc in docs:
                self.insert(resource_type, doc)

    def update(self, resource_type: str, doc: dict[str, Any], *, keep_user_name_index: bool = False) -> None:
        _, _, user_name, display_name, external_id, text = self._row(resource_type, doc)
        with self.lock:
            if keep_user_name_index:
                self._db.execute(
                    "UPDATE resources SET display_name = ?, external_id = ?, doc = ? WHERE id = ?"
                    " AND resource_type = ?",
                    (display_name, external_id, text, doc["id"], resource_type),
                )
            else:
                self._db.execute(
                    "UPDATE resources SET user_name = ?, display_name = ?, external_id = ?, doc = ?"
                    " WHERE id = ? AND resource_type = ?",
                    (user_name, display_name, external_id, text, doc["id"], resource_type),
                )
            self._index_members(resource_type, doc)

    def delete(self, resource_type: str, resource_id: str) -> bool:
        with self.lock:
            cursor = self._db.execute(
                "DELETE FROM resources WHERE id = ? AND resource_type = ?", (resource_id, resource_type)
            )
            self._db.execute("DELETE FROM memberships WHERE group_id = ?", (resource_id,))
            return cursor.rowcount > 0

    def get(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._db.execute(
                "SELECT doc FROM resources WHERE id = ? AND resource_type = ?", (resource_id, resource_type)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def type_of(self, resource_id: str) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT resource_type FROM resources WHERE id = ?", (resource_id,)).fetchone()
        return row[0] if row else None

    def count(self, resource_type: str) -> int:
        with self.lock:
            return int(self._db.execute(
                "SELECT COUNT(*) FROM resources WHERE resource_type = ?", (resource_type,)
            ).fetchone()[0])

    def page(self, resource_type: str, offset: int, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT doc FROM resources WHERE resource_type = ? ORDER BY seq LIMIT ? OFFSET ?",
                (resource_type, limit, offset),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def find(self, resource_type: str, attribute: str, value: str) -> list[dict[str, Any]]:
        """Resources whose indexed column equals the value (lower-cased for userName and displayName)."""
        column = INDEXED_COLUMNS[attribute.lower()]
        key = value.lower() if column in ("user_name", "display_name") else value
        with self.lock:
            rows = self._db.execute(
                f"SELECT doc FROM resources WHERE resource_type = ? AND {column} = ? ORDER BY seq",
                (resource_type, key),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def scan(self, resource_type: str) -> Iterator[dict[str, Any]]:
        """Every resource of the type in list order (for filters no index can narrow)."""
        with self.lock:
            rows = self._db.execute(
                "SELECT doc FROM resources WHERE resource_type = ? ORDER BY seq", (resource_type,)
            ).fetchall()
        for row in rows:
            yield json.loads(row[0])

    def groups_with_member(self, member_id: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT r.doc FROM memberships m JOIN resources r ON r.id = m.group_id"
                " WHERE m.member_id = ? ORDER BY r.seq",
                (member_id,),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def containing(self, resource_type: str, needle: str) -> list[dict[str, Any]]:
        """Resources whose JSON text contains the string; a cheap pre-filter, callers check properly."""
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self.lock:
            rows = self._db.execute(
                "SELECT doc FROM resources WHERE resource_type = ? AND doc LIKE ? ESCAPE '\\' ORDER BY seq",
                (resource_type, pattern),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]
