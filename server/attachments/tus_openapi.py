"""The tus upload endpoints (:mod:`server.attachments.tus`) in the OpenAPI document.

tus speaks headers and raw bytes, so flask-smorest cannot derive these operations from schemas;
they are written out here, next to the blueprint, and checked with the rest of the document
(tests/test_openapi.py).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from werkzeug.routing import Map

from sync_protocol.problems import PROBLEM_MEDIA_TYPE

_TAG = "photos"


def _header(name: str, description: str, *, required: bool = True, integer: bool = False,
            enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 0} if integer else {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"in": "header", "name": name, "required": required, "description": description, "schema": schema}


def _out(description: str, *, integer: bool = False) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer"} if integer else {"type": "string"}}


_RESUMABLE = _header("Tus-Resumable", "The tus version the client speaks; 412 otherwise.", enum=["1.0.0"])
_CHECKSUM = _header("Upload-Checksum", "'sha1 <base64>' or 'sha256 <base64>' of this request's body; "
                    "460 if it does not match.", required=False)
_BYTES = {"required": False, "content": {"application/offset+octet-stream": {
    "schema": {"type": "string", "format": "binary"}}}}
_EXPIRES = _out("When an unfinished upload is deleted (HTTP date)")


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


_ERRORS = {
    "401": _problem("No valid token"),
    "404": _problem("No such upload, or not one this device created, or expired"),
    "412": _problem("Tus-Resumable missing or not 1.0.0"),
    "default": _problem("An error (RFC 9457 problem details)"),
}


def describe(spec: APISpec, url_map: Map) -> None:
    """Add the upload endpoints, as routed in ``url_map``, to ``spec``."""
    rules = {rule.endpoint: rule for rule in url_map.iter_rules()}
    spec.path(rule=rules["tus.create"], operations={
        "options": {
            "tags": [_TAG], "summary": "What this tus server supports", "security": [],
            "responses": {"204": {"description": "Capabilities", "headers": {
                "Tus-Version": _out("1.0.0"),
                "Tus-Extension": _out("creation,creation-with-upload,checksum,termination,expiration"),
                "Tus-Max-Size": _out("Largest photo accepted (XUNCHA_MEDIA_MAX_BYTES)", integer=True),
                "Tus-Checksum-Algorithm": _out("sha1,sha256")}}},
        },
        "post": {
            "tags": [_TAG], "summary": "Create an upload (creation, creation-with-upload)",
            "description": "The photo's SHA-256 is declared in Upload-Metadata; a body sent along is "
                           "stored at once (Content-Type: application/offset+octet-stream).",
            "parameters": [
                _RESUMABLE,
                _header("Upload-Length", "Size of the whole photo in bytes; 413 above XUNCHA_MEDIA_MAX_BYTES.",
                        integer=True),
                _header("Upload-Metadata", "tus metadata: 'sha256 <base64 of the hex SHA-256>' is required; "
                        "'filename' and others are kept."),
                _CHECKSUM,
            ],
            "requestBody": _BYTES,
            "responses": {
                "201": {"description": "Created", "headers": {
                    "Location": _out("The upload's URL, for HEAD, PATCH and DELETE"),
                    "Upload-Expires": _EXPIRES,
                    "Upload-Offset": _out("Bytes stored, when a body came with the request", integer=True)}},
                "400": _problem("Upload-Length or Upload-Metadata malformed"),
                "413": _problem("Upload-Length above the limit, or a body past it"),
                "422": _problem("The completed file is not an acceptable photo"),
                "460": _problem("Checksum mismatch"),
                **_ERRORS,
            },
        },
    })
    spec.path(rule=rules["tus.upload"], operations={
        "head": {
            "tags": [_TAG], "summary": "Where to resume: the upload's offset",
            "parameters": [_RESUMABLE],
            "responses": {"200": {"description": "The upload's state", "headers": {
                "Upload-Offset": _out("Bytes stored so far", integer=True),
                "Upload-Length": _out("Size of the whole photo", integer=True),
                "Upload-Expires": _EXPIRES}}, **_ERRORS},
        },
        "patch": {
            "tags": [_TAG], "summary": "Append bytes at the upload's offset",
            "description": "On the last byte the file is checked against the declared SHA-256 and as a photo.",
            "parameters": [_RESUMABLE, _header("Upload-Offset", "Must equal the server's offset; 409 otherwise.",
                                               integer=True), _CHECKSUM],
            "requestBody": {**_BYTES, "required": True},
            "responses": {
                "204": {"description": "Appended", "headers": {
                    "Upload-Offset": _out("Bytes stored now", integer=True), "Upload-Expires": _EXPIRES}},
                "400": _problem("Upload-Offset malformed or checksum algorithm unsupported"),
                "409": _problem("Upload-Offset is not the server's offset"),
                "413": _problem("The body runs past Upload-Length or XUNCHA_MAX_BODY_BYTES"),
                "415": _problem("Content-Type is not application/offset+octet-stream"),
                "422": _problem("The completed file is not an acceptable photo"),
                "460": _problem("Checksum mismatch"),
                **_ERRORS,
            },
        },
        "delete": {
            "tags": [_TAG], "summary": "Abandon an upload (termination)",
            "parameters": [_RESUMABLE],
            "responses": {"204": {"description": "Deleted"}, **_ERRORS},
        },
    })
