"""The phone's local database: pulled records, the outbox of unsynced mutations, and state."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (entity TEXT, id TEXT, data TEXT, PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, mutation TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
"""


class Store:
    """One device's store; used by one thread at a time (any thread: sync may run in the background)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # state
    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, json.dumps(value)))

    # records
    def record(self, entity: str, record_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM records WHERE entity = ? AND id = ?", (entity, record_id)).fetchone()
        return json.loads(row[0]) if row else None

    def save(self, entity: str, record_id: str, data: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (entity, record_id, json.dumps(data)))

    def remove(self, entity: str, record_id: str) -> None:
        self.db.execute("DELETE FROM records WHERE entity = ? AND id = ?", (entity, record_id))

    def records(self, entity: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        rows = (self.db.execute("SELECT entity, id, data FROM records WHERE entity = ?", (entity,)) if entity
                else self.db.execute("SELECT entity, id, data FROM records"))
        return {(e, i): json.loads(d) for e, i, d in rows}

    # outbox
    def enqueue(self, mutation: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO outbox VALUES (?, ?)", (mutation["seq"], json.dumps(mutation)))

    def outbox(self, limit: int) -> list[dict[str, Any]]:
        return [json.loads(m) for (m,) in self.db.execute("SELECT mutation FROM outbox ORDER BY seq LIMIT ?", (limit,))]

    def outbox_depth(self) -> int:
        return self.db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def oldest_unsynced_at(self) -> str | None:
        """The device time of the oldest change not yet acknowledged (ISO 8601), if any."""
        row = self.db.execute("SELECT mutation FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return json.loads(row[0])["device_time"] if row else None

    def acknowledge(self, upto: int, results: list[dict[str, Any]]) -> None:
        """Drop acknowledged mutations; keep the rejected ones' answers for the user to see.
        Call inside the transaction that also applies the results."""
        for result in results:
            if result["outcome"] in ("rejected", "conflict"):
                self.db.execute("INSERT OR REPLACE INTO rejected VALUES (?, ?)", (result["seq"], json.dumps(result)))
        self.db.execute("DELETE FROM outbox WHERE seq <= ?", (upto,))

    def rejected(self) -> list[dict[str, Any]]:
        return [json.loads(r) for (r,) in self.db.execute("SELECT result FROM rejected ORDER BY seq")]

    def transaction(self) -> Iterator[None]:
        return _Transaction(self.db)  # type: ignore[return-value]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
