"""An office setting up from an empty database: accounts made with ``xuncha create-user``, files
written as a clerk would, everything else through the ``xuncha`` command and the API."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Sequence

import pytest
from openpyxl import Workbook

from tests.assessment.conftest import bearer  # noqa: F401  (a fixture)

PASSWORD = "Office-pass-2026"


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def cli(run_cli, session):  # type: ignore[no-untyped-def]
    """Run a command that must succeed; its output. The test's session starts afresh after it,
    to see what the command wrote."""
    def run(*args: str) -> str:
        session.rollback()
        result = run_cli(*args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        session.rollback()
        return result.output

    return run


@pytest.fixture
def office(cli, bearer):  # type: ignore[no-untyped-def]
    """A campaign made with the command line, an admin and the campaign's supervisor."""
    cli("campaign", "create", "安康市双创工作", "--office", "市双创办", "--starts", "2008-06-11",
        "--ends", "2008-12-31")
    cli("create-user", "admin", "--role", "admin", "--password", PASSWORD)
    cli("create-user", "clerk", "--role", "supervisor", "--name", "王科员", "--password", PASSWORD)
    return {"admin": bearer("admin", PASSWORD), "supervisor": bearer("clerk", PASSWORD)}


def problems(body: dict[str, Any]) -> list[tuple[int | None, str | None]]:
    return [(e["line"], e["column"]) for e in body["errors"]]
