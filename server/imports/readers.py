"""CSV and XLSX files as rows of text cells, each with the line number the user sees."""

from __future__ import annotations

import csv
import datetime as dt
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from server.imports.messages import say


class ReadError(Exception):
    """The file cannot be read as a table at all."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SourceRow:
    #: 1-based, header included, as Excel's row number or a text editor's line number.
    line: int
    cells: tuple[str, ...]

    @property
    def blank(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[SourceRow, ...]


def read_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(_csv_rows(path))
    elif suffix in (".xlsx", ".xlsm"):
        rows = list(_xlsx_rows(path))
    elif suffix == ".xls":
        raise ReadError(say("xls"))
    else:
        raise ReadError(say("unsupported_type", suffix=suffix or "(none)"))
    if not rows or rows[0].blank:
        raise ReadError(say("no_header"))
    return Table(headers=rows[0].cells, rows=tuple(row for row in rows[1:] if not row.blank))


def _csv_rows(path: Path) -> Iterator[SourceRow]:
    # utf-8-sig: Excel's "CSV UTF-8" starts with a BOM, other tools' UTF-8 does not.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        start = 1
        try:
            for cells in reader:
                yield SourceRow(start, tuple(cell.strip() for cell in cells))
                # A quoted cell may span lines; the next record starts after the last one read.
                start = reader.line_num + 1
        except UnicodeDecodeError:
            raise ReadError(say("not_utf8", line=start)) from None
        except csv.Error as exc:
            raise ReadError(say("bad_csv", line=start, reason=exc)) from None


def _xlsx_rows(path: Path) -> Iterator[SourceRow]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; the admin can do nothing about them.
            warnings.simplefilter("ignore", UserWarning)
            workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ReadError(say("unreadable_xlsx", reason=exc)) from None
    try:
        if not workbook.worksheets:
            raise ReadError(say("no_worksheet"))
        sheet = workbook.worksheets[0]
        # Some tools write a wrong <dimension>, which would make read-only mode cut rows off.
        sheet.reset_dimensions()  # type: ignore[union-attr]
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield SourceRow(line, tuple(_cell_text(value) for value in values))
    finally:
        workbook.close()  # read-only mode keeps the file open until closed


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        # Excel keeps every number as a float; a phone number must not come out as 13800000000.0.
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()
