from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from server import db
from server.api import Blueprint
from server.errors import AppError
from sync_protocol.problems import ProblemCode

blp = Blueprint("health", __name__, description="Liveness and version")


class DatabaseUnavailable(AppError):
    status = 503
    code = ProblemCode.SERVICE_UNAVAILABLE
    title = "Database unreachable"


class HealthSchema(ma.Schema):
    status = ma.fields.String()
    database = ma.fields.String()


class VersionSchema(ma.Schema):
    version = ma.fields.String(metadata={"description": "Server release"})
    api = ma.fields.String()
    database_revision = ma.fields.String(allow_none=True,
                                         metadata={"description": "Alembic revision the database is at"})


@blp.get("/healthz")
@blp.response(200, HealthSchema)
@blp.doc(security=[])
def healthz() -> dict[str, str]:
    """200 while the database answers; 503 (problem+json) when it does not."""
    try:
        db.session().execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(str(exc.__class__.__name__)) from exc
    return {"status": "ok", "database": "ok"}


@blp.get("/api/v1/version")
@blp.response(200, VersionSchema)
@blp.doc(security=[])
def api_version() -> dict[str, Any]:
    try:
        revision = db.session().scalar(sa.text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        db.session().rollback()  # PostgreSQL refuses further statements in a failed transaction
        revision = None
    return {"version": server_version(), "api": "v1", "database_revision": revision}


def server_version() -> str:
    try:
        return version("xuncha")
    except PackageNotFoundError:
        return "0+unknown"
