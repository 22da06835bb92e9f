"""How the API reads a request body: JSON only, bounded, and refused with a problem when it is not.

One decoder serves webargs (every ``@blp.arguments`` body), views that read JSON without a
schema (:func:`read_json`: the escalation policy) and Flask's ``request.get_json``: orjson,
then the nesting depth (``MAX_JSON_DEPTH``) and NUL checks of
:func:`server.jsoncodec.loads_request`. An endpoint that takes a body refuses a missing one
(400) and one that is not JSON (415), instead of reading it as ``{}``.
"""

from __future__ import annotations

import json
from typing import Any

import flask
from flask import current_app
from flask.json.provider import DefaultJSONProvider
from webargs.flaskparser import FlaskParser, is_json_request

from server import jsoncodec
from server.errors import AppError, ValidationFailed
from sync_protocol.problems import ProblemCode


class MalformedBody(AppError):
    status = 400
    code = ProblemCode.MALFORMED_REQUEST
    title = "The request body is not valid JSON"


class BodyRequired(AppError):
    status = 400
    code = ProblemCode.MALFORMED_REQUEST
    title = "This request needs a JSON body"


class NotJSON(AppError):
    status = 415
    code = ProblemCode.UNSUPPORTED_MEDIA_TYPE
    title = "The request body must be application/json"


def decode(data: str | bytes, max_depth: int) -> Any:
    """A JSON request body, or the problem that says why it is refused."""
    try:
        return jsoncodec.loads_request(data, max_depth)
    except jsoncodec.NulInString as exc:
        raise ValidationFailed(errors=[{"field": exc.path, "message": str(exc)}]) from None
    except jsoncodec.TooDeep as exc:
        raise MalformedBody(f"{exc} (XUNCHA_MAX_JSON_DEPTH)") from None
    except json.JSONDecodeError as exc:  # orjson's error is one
        raise MalformedBody(f"{exc.msg} at line {exc.lineno} column {exc.colno}.",
                            errors=[{"field": None, "message": exc.msg}]) from None


def read_json(req: flask.Request) -> Any:
    """The request's JSON body: refused when missing (400), not JSON (415) or not decodable."""
    data = req.get_data(cache=True)
    if not data:
        raise BodyRequired("Send a JSON object; {} takes every default.")
    if not is_json_request(req):
        raise NotJSON(f"This endpoint reads application/json, not {req.mimetype or 'an untyped body'}.")
    return decode(data, current_app.config["MAX_JSON_DEPTH"])


class RequestParser(FlaskParser):
    """webargs' Flask parser reading bodies with :func:`read_json`: no body is not an empty one."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        return read_json(req)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with :func:`decode` (``request.get_json``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return decode(s, self._app.config["MAX_JSON_DEPTH"])
