"""The office's forms: what a form's fields say, read into the API's schemas, and why a form was
refused, said in the console's language next to the field's name.

The services say why in English (the command line's and the API's language). A sentence with a
stable key (:class:`server.messages.Said`: the import engine's, the assessment's) is said by its
key's translation; the schemas' and a few older services' by a fragment that names them."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

import marshmallow as ma
from flask import request

from server.errors import AppError, Conflict, ValidationFailed
from server.web.text import ZH_CN, text

#: The refusals the schemas and services give in English, by a fragment that names each one,
#: and how the console says them. Any other is shown as it is: a clerk still learns which field.
_REFUSALS = (
    ("Missing data for required field", "setup.refused.required"),
    ("Field may not be null", "setup.refused.required"),
    ("Not a valid date", "setup.refused.date"),
    ("Not a valid number", "setup.refused.number"),
    ("Not a valid integer", "setup.refused.number"),
    ("Length must be", "setup.refused.length"),
    ("Must be one of", "setup.refused.choice"),
    ("Must be greater than or equal to", "setup.refused.range"),
    ("is not an IANA time zone", "setup.refused.timezone"),
    ("before starts_on", "setup.refused.before_start"),
    ("no spaces", "setup.refused.spaces"),
    ("no standard", "setup.refused.standard"),
    ("give standard_id or standard_code", "setup.refused.standard"),
    ("must not be before start", "setup.refused.before_start"),
)


def given(names: Iterable[str]) -> dict[str, str]:
    """The named fields the form filled in (stripped); an empty field is left out, as the API's
    client would leave it out."""
    values = {name: request.form.get(name, "").strip() for name in names}
    return {name: value for name, value in values.items() if value}


def lines(name: str) -> list[str]:
    """A text area's entries, one a line (or separated by 、 as clerks write lists)."""
    raw = request.form.get(name, "").replace("、", "\n")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def refusal(exc: ma.ValidationError | AppError) -> tuple[list[tuple[str, str]], int]:
    """Why a form was refused, as (field's name, reason) pairs, and the status to answer with."""
    if isinstance(exc, ma.ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return [(_field(name), said(str(message))) for name, found in messages.items()
                for message in (found if isinstance(found, list) else [found])], 422
    if isinstance(exc, Conflict):
        return [(_field("name"), text("setup.refused.name_taken"))], exc.status
    if isinstance(exc, ValidationFailed) and exc.errors:
        return [(_field(e["field"]), said(e["message"])) for e in exc.errors], exc.status
    return [("", exc.detail or exc.title)], exc.status


def _field(name: str) -> str:
    key = f"setup.field.{name}"
    return text(key) if key in ZH_CN else name


def said(message: str) -> str:
    """A service's sentence as the console says it: in Chinese when it has a key or a known
    fragment, as it is otherwise (a clerk still learns which field)."""
    key = f"setup.say.{getattr(message, 'key', '')}"
    if key in ZH_CN:
        # Numbers as a clerk writes them: 满分 100, not 100.00.
        values = {name: f"{value.normalize():f}" if isinstance(value, Decimal) else value
                  for name, value in message.values.items()}  # type: ignore[attr-defined]
        return text(key, **values)
    for fragment, refusal in _REFUSALS:
        if fragment in message:
            return text(refusal)
    return message
