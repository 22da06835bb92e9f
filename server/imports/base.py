"""The vocabulary shared by the import engine and the per-kind specs."""

from __future__ import annotations

import enum
import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.campaigns.models import Campaign
from server.clock import Clock
from server.imports.messages import say


class Invalid(ValueError):
    """A cell's value is refused; the message is read by the person fixing the file (a
    :class:`Said` from the engine's own parsers, which the console can translate)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text(raw: str) -> str:
    return raw


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...] = ()
    #: The column must be in the header and every row must fill it in.
    required: bool = False
    #: From the model, so an over-long cell is a row error rather than a database error on PostgreSQL.
    max_length: int | None = None
    #: Turns a non-empty cell into its value or raises :class:`Invalid`; empty cells stay "".
    parse: Callable[[str], Any] = _text

    def convert(self, raw: str) -> Any:
        if self.max_length is not None and len(raw) > self.max_length:
            raise Invalid(say("too_long", limit=self.max_length))
        return self.parse(raw)

    def describe(self) -> str:
        return " / ".join((self.name, *self.aliases))


@dataclass(frozen=True)
class Problem:
    #: None for a problem with the file as a whole.
    line: int | None
    #: The column's header as written in the file (or its canonical name when it is missing).
    column: str | None
    #: In English; the engine's own are :class:`Said`, which the console says in Chinese.
    message: str

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class Record:
    """One data row: the values of the columns present in the file, by canonical name."""

    line: int
    #: Canonical column name → header as the file spells it, for messages.
    headers: Mapping[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    #: What the spec's check resolved for the write (ids of referenced rows and the like).
    refs: dict[str, Any] = field(default_factory=dict)

    def problem(self, column: str, message: str) -> Problem:
        return Problem(self.line, self.headers.get(column, column), message)


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class ImportReport:
    kind: str
    source: str
    campaign: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Username → password made up for a new account; shown once, stored only as a hash.
    generated_passwords: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            setattr(self, outcome.value, getattr(self, outcome.value) + 1)


@dataclass
class Context:
    session: Session
    clock: Clock
    campaign: Campaign
    hasher: PasswordHasher
    report: ImportReport
    #: What a file is imported into besides the campaign: the round for teams, assignments and
    #: score sheets, the standard's identity for a standard's items.
    target: Any = None
    #: Who imports (an API or console user), whose rights bound the rows; None: the command line.
    actor: Any = None


@dataclass(frozen=True)
class Spec:
    """What one kind of file holds and how its rows reach the database."""

    kind: str
    columns: tuple[Column, ...]
    #: Columns whose values must not repeat within a file; the first is the natural key.
    unique: tuple[str, ...]
    #: Checks needing the database or other rows; sees every record, parsed or not.
    check: Callable[[Context, list[Record]], list[Problem]]
    #: Writes the (all valid) records and says what happened to each, in order.
    apply: Callable[[Context, list[Record]], list[Outcome]]

    @property
    def key(self) -> str:
        return self.unique[0]


def assign(obj: object, values: Mapping[str, Any]) -> bool:
    """Set the attributes that differ; whether any did, so unchanged rows are not rewritten."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


# -- cell parsers shared by the kinds ----------------------------------------------------------

def choice(options: Mapping[str, Any]) -> Callable[[str], Any]:
    """A parser accepting each option's key (case-insensitive), e.g. both "liaison" and 联络员."""
    folded = {key.casefold(): value for key, value in options.items()}

    def parse(raw: str) -> Any:
        try:
            return folded[raw.casefold()]
        except KeyError:
            raise Invalid(say("not_one_of", raw=raw, options=", ".join(options))) from None

    return parse


_PHONE = re.compile(r"[0-9+()\-\s/,;、，转]+")


def phone(raw: str) -> str:
    # Loose on purpose: 0915-3212345, 138 0000 0000, two numbers with "/" or an extension with 转.
    if not _PHONE.fullmatch(raw) or sum(ch.isdigit() for ch in raw) < 3:
        raise Invalid(say("not_a_phone", raw=raw))
    return raw


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email(raw: str) -> str:
    if not _EMAIL.fullmatch(raw):
        raise Invalid(say("not_an_email", raw=raw))
    return raw


def decimal(minimum: Decimal | None = None, maximum: Decimal | None = None) -> Callable[[str], Decimal]:
    """A number such as 92.5 (two decimals at most), optionally within bounds."""
    def parse(raw: str) -> Decimal:
        try:
            value = Decimal(raw)
            exact = value.is_finite() and value == value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        except InvalidOperation:
            raise Invalid(say("not_a_number", raw=raw)) from None
        if not exact:
            raise Invalid(say("too_many_decimals", raw=raw))
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            raise Invalid(say("out_of_range", raw=raw, minimum="" if minimum is None else minimum,
                              maximum="" if maximum is None else maximum))
        return value

    return parse


def names(raw: str) -> tuple[str, ...]:
    """A cell listing several names, as clerks write them: 张三、李四, or with commas or spaces."""
    return tuple(part for part in re.split(r"[、,，;；\s]+", raw) if part)


YES_NO = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False,
          "是": True, "否": False, "需要": True, "不需要": False}


def code(raw: str) -> str:
    # Codes are typed on phones and matched exactly, so inner spaces would only cause misses.
    if any(ch.isspace() for ch in raw):
        raise Invalid(say("has_spaces", raw=raw))
    return raw
