"""The office's results and publication forms turned into what the services take, and the
services' errors put back on the fields they name.

- The results table becomes the rows ``PUT /rounds/{id}/results`` takes (a score sheet's
  columns), in the order of the clerk's position numbers: the engine keeps the order rows come
  in, which alone orders units given only a tier.
- The configuration form becomes the body of ``PUT /rounds/{id}/assessment``.
- The circular's editor becomes the document ``PUT /circulars/{id}`` takes.

Form fields are named by the paths the services name in their errors (``tiers.0.min_score``,
``sections.2.paragraphs``), so an error finds its field; where the form has slots the body
leaves out (an empty tier row, a group without tiers of its own), :class:`Paths` maps back.
The errors are said as the office's forms say them (:func:`server.web.forms.said`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

import marshmallow as ma

from server.assessment.models import EnteredResult, RoundAssessment
from server.assessment.results import UnitResult
from server.errors import ValidationFailed
from server.web.forms import said
from server.web.text import text

#: The score sheet's columns a clerk types per unit (server/imports/scores.py), besides the unit.
RESULT_FIELDS = ("score", "tier", "adjustment", "adjustment_reason", "note", "excluded_reason")
#: At most this many tiers per list (the API's limit).
TIER_SLOTS = 10
TIER_FIELDS = ("name", "label", "min_score", "quota")
DEDUCTIONS = ("overdue", "escalated", "rejected", "cap")
#: What the clerk sets on a circular besides its sections.
HEADER_FIELDS = ("issuer", "number", "addressees", "copies", "printer", "printed", "office", "dated", "title")


def plain(value: Decimal | None) -> str:
    """A stored number as a clerk writes it: 92.5, not 92.50."""
    return "" if value is None else f"{value.normalize():f}"


def problems(exc: ValidationFailed) -> list[dict[str, Any]]:
    return list(exc.errors or [{"field": "", "message": exc.detail or exc.title}])


def flat_errors(messages: Mapping[Any, Any], prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as ``{"tiers.0.min_score": "Not a valid number."}``."""
    flat: dict[str, str] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flat_errors(value, path))
        else:
            # One message stays itself: a keyed sentence (server.messages.Said) is said in Chinese.
            messages = value if isinstance(value, list) else [value]
            flat[path] = messages[0] if len(messages) == 1 else "；".join(str(v) for v in messages)
    return flat


def load(schema: ma.Schema, body: dict[str, Any]) -> dict[str, Any]:
    """The body through the API's own schema; its complaints as a ValidationFailed naming fields
    by their paths in the body, as the services name them."""
    try:
        return schema.load(body)
    except ma.ValidationError as exc:
        found = flat_errors(exc.messages if isinstance(exc.messages, Mapping) else {"": exc.messages})
        raise ValidationFailed("The form did not validate.", errors=[
            {"field": name, "message": message} for name, message in found.items()]) from None


def _joined(before: str | None, message: str) -> str:
    """Two complaints about one field, said one after the other."""
    return "；".join(filter(None, (before, message)))


def _longest_prefix(path: str, known: Iterable[str]) -> tuple[str, list[str]] | None:
    """The longest dotted prefix of ``path`` among ``known``, and the parts after it."""
    known = set(known)
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        if ".".join(parts[:cut]) in known:
            return ".".join(parts[:cut]), parts[cut:]
    return None


class Paths:
    """Where each item of a body came from in the form: body path → form path, by prefix."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def add(self, body: str, form: str) -> None:
        self._map[body] = form

    def form(self, body_path: str) -> str:
        found = _longest_prefix(body_path, self._map)
        return body_path if found is None else ".".join([self._map[found[0]], *found[1]])

    def errors(self, exc: ValidationFailed) -> dict[str, str]:
        out: dict[str, str] = {}
        for error in problems(exc):
            name = self.form(str(error.get("field") or ""))
            out[name] = _joined(out.get(name), said(error["message"]))
        return out


def placed(errors: Mapping[str, str], fields: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Each error on the field it concerns (a paragraph's on its text box: the longest path the
    form has), and those no field shows, to be said above the form."""
    known = set(fields)
    on_fields: dict[str, str] = {}
    elsewhere = []
    for path, message in errors.items():
        found = _longest_prefix(path, known)
        if found is None:
            elsewhere.append(message)
        else:
            on_fields[found[0]] = _joined(on_fields.get(found[0]), message)
    return on_fields, elsewhere


# -- results typed in ---------------------------------------------------------------------------

@dataclass
class ResultRow:
    """One unit's line of the results table, as stored or as the clerk typed it."""

    unit_id: int
    code: str
    name: str
    group: str
    #: The tier names this unit may be given (its group's own, or the round's).
    tiers: list[str]
    values: dict[str, str]
    position: str = ""
    #: Column → message; "unit" for what concerns the whole row.
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not any(self.values.get(name) for name in RESULT_FIELDS)

    def add_error(self, column: str, message: str) -> None:
        self.errors[column] = _joined(self.errors.get(column), message)


def stored_rows(units: Iterable[UnitResult], entered: Mapping[int, EnteredResult], excluded: Mapping[int, str],
                tiers: Mapping[str, list[str]], group_order: Mapping[str, int]) -> list[ResultRow]:
    """The table as the round holds it: by group, then in the order entered, then by code."""
    rows = []
    for unit in units:
        result = entered.get(unit.unit_id)
        values = dict.fromkeys(RESULT_FIELDS, "")
        if result is not None:
            values.update(score=plain(result.score), tier=result.tier or "",
                          adjustment=plain(result.adjustment) if result.adjustment else "",
                          adjustment_reason=result.adjustment_reason, note=result.note)
        values["excluded_reason"] = excluded.get(unit.unit_id, "")
        rows.append(ResultRow(unit.unit_id, unit.code, unit.name, unit.group, tiers.get(unit.group, tiers[""]),
                              values, str(result.position + 1) if result is not None else ""))
    return sorted(rows, key=lambda r: (group_order.get(r.group, len(group_order)), r.position == "",
                                       int(r.position or 0), r.code))


def submitted_rows(form: Mapping[str, str], table: list[ResultRow]) -> list[ResultRow]:
    """The table as the clerk sent it (only the round's units; a forged id names nothing)."""
    rows = []
    for row in table:
        values = {name: form.get(f"{name}-{row.unit_id}", "").strip() for name in RESULT_FIELDS}
        sent = ResultRow(row.unit_id, row.code, row.name, row.group, row.tiers, values,
                         form.get(f"position-{row.unit_id}", "").strip())
        if sent.position and not (sent.position.isdigit() and 0 < int(sent.position) < 100000):
            sent.add_error("position", text("results.bad_position"))
        rows.append(sent)
    return rows


def service_rows(rows: list[ResultRow]) -> tuple[list[dict[str, str]], list[ResultRow]]:
    """The filled-in rows as the results service takes them, numbered ones first in their
    numbers' order, then the others as the table lists them; and the rows in that order, so
    the service's row numbers find their lines again."""
    filled = [r for r in rows if not r.blank]
    ordered = sorted(filled, key=lambda r: (not r.position, int(r.position) if r.position else 0))
    # Every column in every row: an empty 暂不排序原因 clears an exclusion made before.
    return [{"unit": r.code, **{name: r.values[name] for name in RESULT_FIELDS}} for r in ordered], ordered


def place_errors(exc: ValidationFailed, ordered: list[ResultRow]) -> list[str]:
    """Put the service's row errors on their rows, in the console's language; what names no row
    comes back."""
    general = []
    for error in problems(exc):
        line = error.get("line")
        if line is None or not 0 < line <= len(ordered):
            general.append(said(error["message"]))
        else:
            ordered[line - 1].add_error(error.get("column") or "unit", said(error["message"]))
    return general


# -- the assessment configuration ---------------------------------------------------------------

def _tier_values(prefix: str, tiers: list[dict[str, Any]]) -> dict[str, str]:
    def cell(tier: dict[str, Any], name: str) -> str:
        value = tier.get(name)
        return plain(Decimal(value)) if value not in (None, "") and name in ("min_score", "quota") else value or ""

    return {f"{prefix}.{i}.{name}": cell(tier, name) for i, tier in enumerate(tiers) for name in TIER_FIELDS}


def config_values(config: RoundAssessment, groups: list[str], candidates: list[int]) -> dict[str, str]:
    """The stored configuration as the form's fields."""
    values = {"tier_method": config.tier_method.value, "rank_by_group": "1" if config.rank_by_group else "",
              "requirements": config.requirements or "", "closing": config.closing or "",
              **_tier_values("tiers", config.tiers)}
    own = {g["name"]: g for g in config.group_tiers or []}
    for index, name in enumerate(groups):
        if name in own:
            values[f"groups.{index}.own"] = "1"
            values[f"groups.{index}.tier_method"] = own[name]["tier_method"]
            values.update(_tier_values(f"groups.{index}.tiers", own[name]["tiers"]))
    weights = {s["round_id"]: s["weight"] for s in config.sources or []}
    for index, round_id in enumerate(candidates):
        values[f"sources.{index}.weight"] = plain(Decimal(weights[round_id])) if round_id in weights else ""
    values.update({f"order_deductions.{k}": plain(Decimal(v)) for k, v in (config.order_deductions or {}).items()})
    return values


def tier_slots(values: Mapping[str, str], prefix: str) -> int:
    """How many tier rows a list shows: those filled in and two spare, at least four."""
    filled = [int(key[len(prefix):].split(".")[0]) for key, value in values.items()
              if value and key.startswith(prefix) and key.count(".") == prefix.count(".") + 1]
    return min(TIER_SLOTS, max(4, max(filled, default=-1) + 3))


def config_fields(groups: int, candidates: int) -> set[str]:
    """Every place of the configuration form an error can be shown at."""
    def tiers(prefix: str) -> set[str]:
        return {prefix, *(f"{prefix}.{i}.{name}" for i in range(TIER_SLOTS) for name in TIER_FIELDS)}

    fields = {"tier_method", "rank_by_group", "groups", "sources", "requirements", "closing", *tiers("tiers"),
              *(f"order_deductions.{k}" for k in DEDUCTIONS)}
    for g in range(groups):
        fields |= {f"groups.{g}.name", f"groups.{g}.tier_method", *tiers(f"groups.{g}.tiers")}
    fields |= {f"sources.{s}.{name}" for s in range(candidates) for name in ("round_id", "weight")}
    return fields


def _tiers(form: Mapping[str, str], prefix: str, body_prefix: str, paths: Paths) -> list[dict[str, Any]]:
    tiers = []
    for slot in range(TIER_SLOTS):
        cells = {name: form.get(f"{prefix}.{slot}.{name}", "").strip() for name in TIER_FIELDS}
        if not any(cells.values()):
            continue  # an empty row of the form, not a tier
        paths.add(f"{body_prefix}.{len(tiers)}", f"{prefix}.{slot}")
        tiers.append({name: cells[name] or None for name in TIER_FIELDS} | {"label": cells["label"]})
    return tiers


def config_body(form: Mapping[str, str], groups: list[str], candidates: list[int] | None
                ) -> tuple[dict[str, Any], Paths]:
    """The form as the body of ``PUT /rounds/{id}/assessment``; ``candidates``: the rounds the
    form offers to combine (None: the form has no such part, the round's sources stay)."""
    paths = Paths()
    body: dict[str, Any] = {"tier_method": form.get("tier_method", ""), "tiers": _tiers(form, "tiers", "tiers", paths),
                            "rank_by_group": bool(form.get("rank_by_group")),
                            "requirements": form.get("requirements", "").strip(),
                            "closing": form.get("closing", "").strip(),
                            "order_deductions": {k: form.get(f"order_deductions.{k}", "").strip() or None
                                                 for k in DEDUCTIONS}}
    body["groups"] = []
    for index, name in enumerate(groups):
        if form.get(f"groups.{index}.own"):
            at = f"groups.{len(body['groups'])}"
            paths.add(at, f"groups.{index}")
            body["groups"].append({"name": name, "tier_method": form.get(f"groups.{index}.tier_method", ""),
                                   "tiers": _tiers(form, f"groups.{index}.tiers", f"{at}.tiers", paths)})
    if candidates is not None:
        body["sources"] = []
        for index, round_id in enumerate(candidates):
            weight = form.get(f"sources.{index}.weight", "").strip()
            if weight:
                paths.add(f"sources.{len(body['sources'])}", f"sources.{index}")
                body["sources"].append({"round_id": round_id, "weight": weight})
    return body, paths


# -- a circular's text --------------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def document_values(document: Mapping[str, Any]) -> dict[str, str]:
    """A circular's text as the editor's fields: paragraphs one a line."""
    values = {name: str(document.get(name) or "") for name in HEADER_FIELDS}
    values["opening"] = "\n".join(document.get("opening", []))
    values["closing"] = "\n".join(document.get("closing", []))
    for i, section in enumerate(document.get("sections", [])):
        values[f"sections.{i}.heading"] = section.get("heading", "")
        values[f"sections.{i}.paragraphs"] = "\n".join(section.get("paragraphs", []))
        for j, sub in enumerate(section.get("subsections", []) or []):
            values[f"sections.{i}.subsections.{j}.heading"] = sub.get("heading", "")
            values[f"sections.{i}.subsections.{j}.paragraphs"] = "\n".join(sub.get("paragraphs", []))
    return values


def document_body(form: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The draft with the editor's text; its sections stay those of the draft (figures and the
    score table attached are the data's, not the clerk's)."""
    document = dict(current)
    document.update({name: form.get(name, "").strip() for name in HEADER_FIELDS})
    document["opening"] = _lines(form.get("opening", ""))
    document["closing"] = _lines(form.get("closing", ""))
    sections = []
    for i, section in enumerate(current.get("sections", [])):
        subsections = [{**sub, "heading": form.get(f"sections.{i}.subsections.{j}.heading", "").strip(),
                        "paragraphs": _lines(form.get(f"sections.{i}.subsections.{j}.paragraphs", ""))}
                       for j, sub in enumerate(section.get("subsections", []) or [])]
        sections.append({**section, "heading": form.get(f"sections.{i}.heading", "").strip(),
                         "paragraphs": _lines(form.get(f"sections.{i}.paragraphs", "")), "subsections": subsections})
    document["sections"] = sections
    return document
