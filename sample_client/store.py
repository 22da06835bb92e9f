"""The phone's local database: pulled records, the outbox of unsynced mutations, and state."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (entity TEXT, id TEXT, data TEXT, PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, mutation TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (seq INTEGER PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS snapshot (entity TEXT, id TEXT, PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS photos (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,           -- the bytes, kept by the app until the server has them
    size INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',  -- pending, done, failed
    upload_url TEXT,              -- the tus upload, once created: resumed after a restart
    "offset" INTEGER NOT NULL DEFAULT 0,     -- what the server acknowledged last
    problem TEXT                  -- why the server refused the photo (failed)
);
-- This phone's creates the server applied where its pulls do not reach (another team's unit,
-- triage): gone from records, kept here so the reporter is told where they went.
CREATE TABLE IF NOT EXISTS handed_over (id TEXT PRIMARY KEY, note TEXT NOT NULL);
"""

#: Shown for a hand-over to no unit: the supervisors' triage (待分派).
TRIAGE = "待分派"

#: Photo columns a caller may set.
PHOTO_FIELDS = frozenset({"status", "upload_url", "offset", "problem"})


class Store:
    """One device's store; used by one thread at a time (any thread: sync may run in the background).

    Opening a store creates the tables it lacks (``CREATE TABLE IF NOT EXISTS``): a phone's store
    from an earlier version gains the new ones and keeps its data; tables are only ever added.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.executescript(SCHEMA)
        self._depth = 0

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

    # a pull with no cursor is a snapshot: what it did not bring is gone (protocol §8.5)
    def begin_snapshot(self) -> None:
        self.db.execute("DELETE FROM snapshot")
        self.put("snapshot", True)

    def in_snapshot(self) -> bool:
        return bool(self.get("snapshot", False))

    def saw(self, entity: str, record_id: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO snapshot VALUES (?, ?)", (entity, record_id))

    def end_snapshot(self) -> None:
        """Drop every record the snapshot did not bring, unless a change of it is still unsent."""
        pending = {(m["entity"], m["id"]) for m in self.outbox(1_000_000)}
        seen = set(self.db.execute("SELECT entity, id FROM snapshot"))
        for entity, record_id in list(self.db.execute("SELECT entity, id FROM records")):
            if (entity, record_id) not in seen and (entity, record_id) not in pending:
                self.remove(entity, record_id)
        self.db.execute("DELETE FROM snapshot")
        self.put("snapshot", False)

    def forget_pulled(self) -> None:
        """Drop pulled records, the cursor and any snapshot in progress (a cursor that expired,
        another user or another device id): the outbox and the sequence counter stay."""
        self.db.execute("DELETE FROM records")
        self.db.execute("DELETE FROM snapshot")
        self.put("snapshot", False)
        self.put("cursor", "")

    # photos
    def add_photo(self, sha256: str, path: str, size: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO photos (sha256, path, size) VALUES (?, ?, ?)", (sha256, path, size))

    def photo(self, sha256: str) -> dict[str, Any] | None:
        cursor = self.db.execute("SELECT * FROM photos WHERE sha256 = ?", (sha256,))
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row)) if row else None

    def photos(self, status: str | None = None) -> list[dict[str, Any]]:
        cursor = (self.db.execute("SELECT * FROM photos WHERE status = ? ORDER BY rowid", (status,)) if status
                  else self.db.execute("SELECT * FROM photos ORDER BY rowid"))
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def set_photo(self, sha256: str, **fields: Any) -> None:
        unknown = set(fields) - PHOTO_FIELDS
        if unknown:
            raise ValueError(f"not photo columns: {sorted(unknown)}")
        assignments = ", ".join(f'"{name}" = ?' for name in fields)
        self.db.execute(f"UPDATE photos SET {assignments} WHERE sha256 = ?", (*fields.values(), sha256))

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

    # hand-overs: this phone's captures that now live elsewhere
    def hand_over(self, record_id: str, server: dict[str, Any], at: str) -> None:
        """Note that the server applied this phone's create where its pulls do not reach, naming
        where it went from the server's copy (the unit's name when the phone holds the unit)."""
        unit_id = server.get("unit_id")
        unit = self.record("unit", str(unit_id)) if unit_id is not None else None
        to = TRIAGE if unit_id is None else (unit or {}).get("name") or f"单位 {unit_id}"
        note = {"id": record_id, "category": server.get("category", ""), "description": server.get("description", ""),
                "unit_id": unit_id, "to": to, "at": at}
        self.db.execute("INSERT OR REPLACE INTO handed_over VALUES (?, ?)", (record_id, json.dumps(note)))

    def handed_over(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The hand-overs, oldest first (only those of ``ids`` if given)."""
        notes = [json.loads(n) for (n,) in self.db.execute("SELECT note FROM handed_over ORDER BY rowid")]
        if ids is None:
            return notes
        wanted = set(ids)
        return [n for n in notes if n["id"] in wanted]

    def forget_answers(self) -> None:
        """Drop what the server answered the previous user (refusals, hand-overs): not the next one's."""
        self.db.execute("DELETE FROM rejected")
        self.db.execute("DELETE FROM handed_over")

    def transaction(self) -> Iterator[None]:
        return _Transaction(self)  # type: ignore[return-value]


class _Transaction:
    """Nests: only the outermost one begins and commits, so a capture and the photos it names
    are written together even when each step opens its own transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        if self.store._depth == 0:
            self.store.db.execute("BEGIN IMMEDIATE")
        self.store._depth += 1

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.store._depth -= 1
        if self.store._depth == 0:
            self.store.db.execute("ROLLBACK" if exc_type else "COMMIT")
