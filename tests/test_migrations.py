"""The migrations are the only way the schema is built, and they agree with the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from server.db import Base, make_engine
from server.migrations import alembic_config


def test_one_head(database_url_for_tests):
    script = ScriptDirectory.from_config(alembic_config(database_url_for_tests))
    assert len(script.get_heads()) == 1


def test_migrated_database_matches_the_models(database_url_for_tests):
    engine = make_engine(database_url_for_tests)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
