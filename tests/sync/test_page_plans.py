"""How a pull page is read: planned by the database for the page's own values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.sync.page import feed_rows
from server.sync.scope import Scope


def test_postgresql_plans_every_page_for_its_keys(is_postgres, session):
    """A statement prepared on the server gets, after a few runs, one plan for any keys: it walks
    the whole feed once per key of the scope, so a first sync would slow down as the feed grows."""
    if not is_postgres:
        pytest.skip("PostgreSQL only: SQLite plans each statement when it is prepared")
    scope = Scope(keys=frozenset({"c:1", "u:1", "o:1", "w:1"}))
    for after in range(10):  # more runs than psycopg's prepare threshold (5)
        assert feed_rows(session, scope, after=after, limit=10, live_only=True) == []
    prepared = session.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars()
    assert [statement for statement in prepared if "sync_rows" in statement] == []
