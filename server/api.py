"""The flask-smorest Api: OpenAPI document generated from the schemas, problem+json errors."""

from __future__ import annotations

import http
from typing import Any, Iterable

import flask_smorest
import marshmallow as ma
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.routing import IntegerConverter

from server.bodies import RequestParser
from server.errors import register_error_handlers
from sync_protocol import fields
from sync_protocol.problems import PROBLEM_MEDIA_TYPE


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(allow_none=True, metadata={"description": "Dotted path of the offending field"})
    message = ma.fields.String()
    code = ma.fields.String(metadata={"description": "A stable code for this error, where it has one"})
    line = ma.fields.Integer(allow_none=True, metadata={"description": "An imported file's line (row) number"})
    column = ma.fields.String(allow_none=True, metadata={"description": "An imported file's column"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, the body of every error response (application/problem+json).

    A problem may carry members of its own (``status_now``, ``supported`` ...), named in the
    description of the endpoint or code that sends them.
    """

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"description": "Stable URI, urn:xuncha:problem:<code>"})
    code = ma.fields.String(required=True, metadata={"description": "Stable code clients branch on"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


class Blueprint(flask_smorest.Blueprint):
    """Every API blueprint: bodies are read by :class:`server.bodies.RequestParser`."""

    ARGUMENTS_PARSER = RequestParser()


def file_response(media_types: str | Iterable[str], description: str) -> dict[str, Any]:
    """``@blp.doc(**file_response(...))``: the 200 of a view that answers a file, not JSON (one
    media type, or several when the caller picks the format)."""
    types = [media_types] if isinstance(media_types, str) else list(media_types)
    content = {media_type: {"schema": {"type": "string"} if media_type.startswith("text/")
                            else {"type": "string", "format": "binary"}} for media_type in types}
    return {"responses": {"200": {"description": description, "content": content}}}


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route (an id): a number no ``INTEGER`` column holds matches no route (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002  (werkzeug's name)
        kwargs.setdefault("max", fields.INT32_MAX)
        super().__init__(map, *args, **kwargs)


def _decimal_bounds(_converter: Any, field: ma.fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Decimals' bounds, which apispec writes as strings where OpenAPI wants numbers: a Decimal
    sent as a string ("10.00") is documented as one, its bounds moved into the description; one
    sent as a number keeps its bounds, as numbers."""
    if not isinstance(field, ma.fields.Decimal):
        return {}
    if not field.as_string:
        # A Decimal sent as a JSON number: apispec still writes its bounds as strings.
        return {key: float(ret[key]) for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
                if key in ret}
    low, high = ret.pop("minimum", None), ret.pop("maximum", None)
    ret.pop("exclusiveMinimum", None), ret.pop("exclusiveMaximum", None)
    bounds = f"A decimal number as a string, from {low} to {high}." if low is not None and high is not None \
        else "A decimal number as a string."
    description = " ".join(filter(None, (field.metadata.get("description"), bounds)))
    return {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": description}


class XunchaApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def init_app(self, app: Any, *args: Any, **kwargs: Any) -> None:
        app.url_map.converters["int"] = IdConverter
        super().init_app(app, *args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_decimal_bounds)
        self.register_field(fields.Integer, "integer", "int32")
        self.register_field(fields.BigInteger, "integer", "int64")

    def _register_responses(self) -> None:
        # flask-smorest documents errors as its default content type; ours are problem+json.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


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
