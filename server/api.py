"""The flask-smorest Api: OpenAPI document generated from the schemas, problem+json errors."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Api

from server.errors import register_error_handlers


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(allow_none=True, metadata={"description": "Dotted path of the offending field"})
    message = ma.fields.String()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, the body of every error response (application/problem+json)."""

    type = ma.fields.String(metadata={"description": "Stable URI, urn:xuncha:problem:<code>"})
    code = ma.fields.String(metadata={"description": "Stable code clients branch on"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


class XunchaApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)


def api_settings() -> dict[str, object]:
    return {
        "API_TITLE": "Xuncha API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer",
                               "description": "Token from POST /api/v1/auth/login"},
                },
            },
            "security": [{"bearer": []}],
        },
    }
