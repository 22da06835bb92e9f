"""The escalation policy: levels, limits per category and severity, reminders, who hears what.

A policy is a document (TOML in a file, JSON over the admin API) validated in full before it
is stored; every problem is reported at once with its path. Stored versions never change: an
order keeps the version it was created under, so a policy edited mid-campaign does not move
the deadlines units were already given.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.clock import Clock
from server.errors import ValidationFailed, flatten_messages
from server.orders.models import PolicyVersion
from server.worktime.limits import Limit
from sync_protocol.fields import Integer, String

AUDIENCES = ("liaison", "unit_head", "supervisor", "leadership")
SEVERITIES = ("minor", "normal", "serious", "urgent")
COLOURS = ("yellow", "orange", "red", "blue", "green", "purple", "black")


class InvalidPolicy(ValidationFailed):
    title = "The escalation policy is not valid"


def _limit(value: str) -> None:
    try:
        Limit.parse(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None


_Audience = ma.fields.List(String(validate=ma.validate.OneOf(AUDIENCES)),
                           validate=ma.validate.Length(min=1))


class _LevelSchema(ma.Schema):
    level = Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=9))
    name = String(required=True, validate=ma.validate.Length(min=1, max=40))
    colour = String(required=True, validate=ma.validate.OneOf(COLOURS))
    limit = String(load_default=None, validate=_limit)
    notify = _Audience


class _LimitRuleSchema(ma.Schema):
    level = Integer(load_default=None, strict=True)
    category = String(load_default=None, validate=ma.validate.Length(min=1, max=64))
    severity = String(load_default=None, validate=ma.validate.OneOf(SEVERITIES))
    limit = String(required=True, validate=_limit)


class _MeasureSchema(ma.Schema):
    category = String(required=True, validate=ma.validate.Length(min=1, max=64))
    action = String(load_default="", validate=ma.validate.Length(max=40))
    word = String(required=True, validate=ma.validate.Length(min=1, max=8))


class _ReminderSchema(ma.Schema):
    at = ma.fields.Float(load_default=None, validate=ma.validate.Range(min=0, max=1, min_inclusive=False,
                                                                       max_inclusive=False))
    before = String(load_default=None, validate=_limit)
    notify = _Audience

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("at") is None) == (data.get("before") is None):
            raise ma.ValidationError("give exactly one of 'at' (a fraction of the limit) and 'before' (time left)",
                                     "at")


class _PolicySchema(ma.Schema):
    name = String(required=True, validate=ma.validate.Length(min=1, max=100))
    leadership = ma.fields.List(String(validate=ma.validate.Length(min=1, max=64)), load_default=list)
    rebound_days = Integer(load_default=30, strict=True, validate=ma.validate.Range(min=0, max=3650))
    rebound_distance_m = ma.fields.Float(load_default=50.0, validate=ma.validate.Range(min=0, max=10_000))
    max_bounces = Integer(load_default=2, strict=True, validate=ma.validate.Range(min=0, max=100))
    levels = ma.fields.List(ma.fields.Nested(_LevelSchema), required=True, validate=ma.validate.Length(min=1))
    limits = ma.fields.List(ma.fields.Nested(_LimitRuleSchema), required=True, validate=ma.validate.Length(min=1))
    reminders = ma.fields.List(ma.fields.Nested(_ReminderSchema), load_default=list)
    measures = ma.fields.List(ma.fields.Nested(_MeasureSchema), load_default=list)

    @ma.validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        numbers = [level["level"] for level in data.get("levels", [])]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ma.ValidationError("levels must be numbered 1, 2, 3 ... in order", "levels")
        rules = data.get("limits", [])
        if not any(r["category"] is None and r["severity"] is None and r["level"] in (None, 1) for r in rules):
            raise ma.ValidationError("a catch-all rule (no category, no severity) must give the first level's limit",
                                     "limits")
        for level in data.get("levels", [])[1:]:
            if level["limit"] is None and not any(r["level"] == level["level"] and r["category"] is None
                                                  and r["severity"] is None for r in rules):
                raise ma.ValidationError(f"level {level['level']} needs a limit: the time given after escalating",
                                         "levels")
        for rule in rules:
            if rule["level"] is not None and rule["level"] not in numbers:
                raise ma.ValidationError(f"a rule names level {rule['level']}, which is not defined", "limits")


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    colour: str
    limit: Limit | None
    notify: tuple[str, ...]


@dataclass(frozen=True)
class LimitRule:
    level: int | None
    category: str | None
    severity: str | None
    limit: Limit

    def matches(self, level: int, category: str, severity: str) -> bool:
        return ((self.level is None and level == 1 or self.level == level)
                and self.category in (None, category) and self.severity in (None, severity))


@dataclass(frozen=True)
class Reminder:
    at: float | None
    before: Limit | None
    notify: tuple[str, ...]


@dataclass(frozen=True)
class Measure:
    """How the bulletin counts a category's work: 清理乱堆杂物220起, 清除野广告800条."""

    category: str
    #: What was done about it, e.g. 清理乱堆杂物; empty: the category's name.
    action: str
    #: The measure word, e.g. 起, 条, 人次, 处.
    word: str


@dataclass(frozen=True)
class Policy:
    version: int
    name: str
    levels: tuple[Level, ...]
    rules: tuple[LimitRule, ...]
    reminders: tuple[Reminder, ...]
    leadership: tuple[str, ...]
    rebound_days: int
    rebound_distance_m: float
    max_bounces: int
    measures: tuple[Measure, ...] = ()

    def measure(self, category: str) -> Measure:
        """The category's measure; 起 (the circulars' word for a problem) when none is set."""
        return next((m for m in self.measures if m.category == category), Measure(category, "", "起"))

    def level(self, number: int) -> Level:
        return self.levels[number - 1]

    @property
    def top(self) -> int:
        return len(self.levels)

    def limit_for(self, level: int, category: str, severity: str) -> Limit:
        """The time a unit gets at this level: the first matching rule, else the level's own."""
        for rule in self.rules:
            if rule.matches(level, category, severity):
                return rule.limit
        fallback = self.level(level).limit
        assert fallback is not None, "validated: every level past the first has a limit"
        return fallback


def validate(document: dict[str, Any]) -> dict[str, Any]:
    """The document with defaults filled in, or :class:`InvalidPolicy` naming every problem."""
    try:
        return _PolicySchema().load(document)
    except ma.ValidationError as exc:
        raise InvalidPolicy("The escalation policy has errors.", errors=list(flatten_messages(exc.messages, ()))) from None


def parse_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidPolicy(f"The policy file is not valid TOML: {exc}.") from None


def default_document() -> dict[str, Any]:
    return parse_toml(resources.files("server.orders").joinpath("default_policy.toml").read_text("utf-8"))


def _build(version: int, doc: dict[str, Any]) -> Policy:
    def audience(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(names))

    return Policy(
        version=version, name=doc["name"],
        levels=tuple(Level(lv["level"], lv["name"], lv["colour"], Limit.parse(lv["limit"]) if lv["limit"] else None,
                           audience(lv["notify"])) for lv in doc["levels"]),
        rules=tuple(LimitRule(r["level"], r["category"], r["severity"], Limit.parse(r["limit"])) for r in doc["limits"]),
        reminders=tuple(sorted((Reminder(r["at"], Limit.parse(r["before"]) if r["before"] else None,
                                         audience(r["notify"])) for r in doc["reminders"]),
                               key=lambda r: r.at if r.at is not None else 1.0)),
        leadership=tuple(doc["leadership"]), rebound_days=doc["rebound_days"],
        rebound_distance_m=doc["rebound_distance_m"], max_bounces=doc["max_bounces"],
        measures=tuple(Measure(m["category"], m.get("action", ""), m["word"]) for m in doc.get("measures", [])))


_CACHE = "xuncha.policies"


def policy(session: Session, version: int) -> Policy:
    """A stored version, read once per session (a sweep over many orders reads it once)."""
    cache: dict[int, Policy] = session.info.setdefault(_CACHE, {})
    found = cache.get(version)
    if found is None:
        row = session.get(PolicyVersion, version)
        if row is None:
            raise LookupError(f"No escalation policy version {version}.")
        found = cache[version] = _build(version, validate(row.document))
    return found


def current_policy(session: Session, clock: Clock) -> Policy:
    """The latest version; an installation that never loaded one starts with the shipped default."""
    with session.no_autoflush:
        version = session.scalar(sa.select(sa.func.max(PolicyVersion.id)))
    if version is None:
        return store(session, clock, default_document(), source="default_policy.toml", actor_id=None)
    return policy(session, version)


def store(session: Session, clock: Clock, document: dict[str, Any], *, source: str,
          actor_id: int | None) -> Policy:
    """Validate and keep a new version; the orders raised from now on follow it."""
    clean = validate(document)
    # A Core insert, not the unit of work: loading the default while a sync batch is being
    # applied must not flush the batch's pending rows from here.
    with session.no_autoflush:
        version = session.execute(sa.insert(PolicyVersion).values(
            document=document, source=source[:200], created_at=clock.now(), created_by=actor_id)
            .returning(PolicyVersion.id)).scalar_one()
    from server.audit.services import record

    record(session, clock, "policy.loaded", actor_id=actor_id, entity="escalation_policy", entity_id=version,
           data={"source": source, "name": clean["name"]})
    built = session.info.setdefault(_CACHE, {})[version] = _build(version, clean)
    return built


def describe(policy_: Policy) -> dict[str, Any]:
    """The policy as the API shows it."""
    return {
        "version": policy_.version, "name": policy_.name,
        "levels": [{"level": lv.level, "name": lv.name, "colour": lv.colour,
                    "limit": str(lv.limit) if lv.limit else None, "notify": list(lv.notify)} for lv in policy_.levels],
        "limits": [{"level": r.level, "category": r.category, "severity": r.severity, "limit": str(r.limit)}
                   for r in policy_.rules],
        "reminders": [{"at": r.at, "before": str(r.before) if r.before else None, "notify": list(r.notify)}
                      for r in policy_.reminders],
        "leadership": list(policy_.leadership), "rebound_days": policy_.rebound_days,
        "rebound_distance_m": policy_.rebound_distance_m, "max_bounces": policy_.max_bounces,
        "measures": [{"category": m.category, "action": m.action, "word": m.word} for m in policy_.measures],
    }

