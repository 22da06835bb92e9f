"""Migration 0006: photos stored before it get their perceptual hash's index segments."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from media import phash_index
from server.db import make_engine
from server.migrations import alembic_config


def test_photos_stored_before_get_their_segments(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'before_0006.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "0005")
    engine = make_engine(url)
    photos = sa.table("photos", *(sa.column(name) for name in (
        "sha256", "size_bytes", "content_type", "width", "height", "camera", "phash", "received_at")))
    with engine.begin() as conn:
        conn.execute(photos.insert(), [
            {"sha256": "a" * 64, "size_bytes": 1, "content_type": "image/jpeg", "width": 1, "height": 1,
             "camera": "", "phash": "c3a5f00f12345678", "received_at": dt.datetime(2026, 10, 23)},
            {"sha256": "b" * 64, "size_bytes": 1, "content_type": "image/jpeg", "width": 1, "height": 1,
             "camera": "", "phash": None, "received_at": dt.datetime(2026, 10, 23)}])

    command.upgrade(config, "0006")

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sha256, phash_0, phash_1, phash_2, phash_3 FROM photos ORDER BY sha256"))
        assert [tuple(row) for row in rows] == [
            ("a" * 64, *phash_index.segments("c3a5f00f12345678")), ("b" * 64, None, None, None, None)]
    command.downgrade(config, "0005")
    assert "phash_0" not in {c["name"] for c in sa.inspect(engine).get_columns("photos")}
    engine.dispose()
