"""Official schedule files: CSV or XLSX (date, kind, name), or JSON as the API's PUT body."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import marshmallow as ma

from server.errors import flatten_messages
from server.imports.base import Column, Invalid, choice
from server.imports.readers import ReadError, read_table
from server.imports.services import match_headers
from server.worktime.schedule import ScheduleDay
from server.worktime.schemas import HolidayScheduleInSchema

_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")


def _date(raw: str) -> dt.date:
    match = _DATE.fullmatch(raw)
    try:
        if match is None:
            raise ValueError
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise Invalid(f"{raw!r} is not a date; write 2027-02-05") from None


#: Both spellings of the State Council's tables (休/班) and plain words.
_KINDS = {"休": False, "休息": False, "放假": False, "off": False, "班": True, "上班": True, "work": True}

COLUMNS = (
    Column("date", ("日期",), required=True, parse=_date),
    Column("kind", ("类型", "安排"), required=True, parse=choice(_KINDS)),
    Column("name", ("名称", "节日", "说明")),
)


@dataclass
class ScheduleFile:
    days: list[ScheduleDay] = field(default_factory=list)
    #: Where each day is in the file ("line 3", "day 2"), for messages.
    places: list[str] = field(default_factory=list)
    #: A source named inside a JSON file.
    source: str | None = None
    problems: list[str] = field(default_factory=list)


def read_schedule_file(path: Path) -> ScheduleFile:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _read_json(path)
    result = ScheduleFile()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        result.problems.append(f"unsupported file type {suffix or '(none)'!r}; use .csv (UTF-8), .xlsx or .json")
        return result
    try:
        table = read_table(path)
    except ReadError as exc:
        result.problems.append(str(exc))
        return result
    positions, headers, header_problems = match_headers(COLUMNS, table.headers)
    if header_problems:
        result.problems.extend(str(problem) for problem in header_problems)
        return result
    for row in table.rows:
        values: dict[str, object] = {}
        for column in COLUMNS:
            index = positions.get(column.name)
            raw = row.cells[index] if index is not None and index < len(row.cells) else ""
            if not raw:
                if column.required:
                    result.problems.append(f"line {row.line}, column {headers[column.name]}: must not be empty")
                values[column.name] = ""
                continue
            try:
                values[column.name] = column.convert(raw)
            except Invalid as exc:
                result.problems.append(f"line {row.line}, column {headers[column.name]}: {exc}")
        if not result.problems:
            result.days.append(ScheduleDay(values["date"], values["kind"], values["name"]))  # type: ignore[arg-type]
            result.places.append(f"line {row.line}")
    return result


def _read_json(path: Path) -> ScheduleFile:
    result = ScheduleFile()
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.problems.append(f"not a UTF-8 JSON file ({exc})")
        return result
    if isinstance(data, list):
        data = {"days": data}  # a bare list of days is the natural thing to write by hand
    try:
        loaded = HolidayScheduleInSchema().load(data)
    except ma.ValidationError as exc:
        result.problems.extend(f"{problem['field']}: {problem['message']}"
                               for problem in flatten_messages(exc.messages))
        return result
    result.days = list(loaded["days"])
    result.places = [f"days.{index}" for index in range(len(result.days))]
    result.source = loaded["source"] or None
    return result


_DAY_FIELD = re.compile(r"days\.([0-9]+)(?:\.(\w+))?")


def located(problem: dict[str, object], places: list[str]) -> str:
    """A service problem ("days.3.date") told by the file's own place for that day ("line 5")."""
    field = str(problem.get("field") or "")
    match = _DAY_FIELD.fullmatch(field)
    if match and int(match.group(1)) < len(places):
        where = places[int(match.group(1))] + (f", {match.group(2)}" if match.group(2) else "")
    else:
        where = field
    return f"{where}: {problem['message']}" if where else str(problem["message"])
