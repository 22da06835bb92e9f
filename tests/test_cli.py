from __future__ import annotations

import sqlalchemy as sa

from server import create_app
from server.auth.models import Role, User
from server.db import Base, make_engine
from tests import factories


def test_db_upgrade_builds_an_empty_database(app_config, clock, tmp_path):
    from server.cli import cli

    url = f"sqlite:///{tmp_path / 'fresh' / 'xuncha.sqlite3'}"
    app = create_app({**app_config, "DATABASE_URL": url}, clock=clock)
    result = app.test_cli_runner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
    app.extensions["xuncha.db"].dispose()


def test_create_user(run_cli, session, hasher):
    campaign = factories.campaign(session)
    unit = factories.unit(session, campaign, code="XHSD")
    session.commit()
    result = run_cli("create-user", "xinhua", "--role", "liaison", "--name", "新华书店联络员",
                     "--unit", "XHSD", "--password", "good-pass-123")
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.username == "xinhua"))
    assert user.role is Role.LIAISON and user.unit_id == unit.id and user.campaign_id == campaign.id
    assert hasher.verify(user.password_hash, "good-pass-123")


def test_create_user_refuses_bad_input_and_creates_nothing(run_cli, session):
    factories.campaign(session)
    session.commit()
    weak = run_cli("create-user", "a", "--role", "inspector", "--password", "123")
    assert weak.exit_code != 0 and "password" in weak.output
    orphan = run_cli("create-user", "b", "--role", "liaison", "--password", "good-pass-123")
    assert orphan.exit_code != 0 and "a liaison must belong to a unit" in orphan.output
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user_prompts_for_the_password(run_cli, session, hasher):
    result = run_cli("create-user", "boss", "--role", "admin", input="good-pass-123\ngood-pass-123\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.username == "boss"))
    assert user.campaign_id is None and hasher.verify(user.password_hash, "good-pass-123")


def test_settings_command_lists_every_setting(run_cli):
    result = run_cli("settings")
    assert "XUNCHA_DATABASE_URL" in result.output and "XUNCHA_TIMEZONE" in result.output
