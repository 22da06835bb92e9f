"""How notices read: Chinese texts rendered one way everywhere (emails, webhook, the app).

Times are stored in UTC and shown in the campaign's time zone, the way a circular writes
them: "11月27日（周五）17:30".
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Protocol, Sequence
from zoneinfo import ZoneInfo

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

#: Put before every email subject, so a liaison's mailbox can filter on it.
SUBJECT_PREFIX = "【巡查】"


def _zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


@functools.lru_cache(maxsize=1024)  # a sweep's notices mostly share a handful of deadlines
def format_deadline(when: dt.datetime, tz: str | dt.tzinfo) -> str:
    """``11月27日（周五）17:30`` in ``tz``; the year is left out, as deadlines are weeks away."""
    local = when.astimezone(_zone(tz))
    return f"{local.month}月{local.day}日（{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def format_datetime(when: dt.datetime, tz: str | dt.tzinfo) -> str:
    """``2026年11月27日 17:30`` in ``tz``, for records where the year matters."""
    local = when.astimezone(_zone(tz))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def case_text(*, unit: str, finding: str, level: str, deadline: dt.datetime | None,
              tz: str | dt.tzinfo, lead: str = "") -> str:
    """The body of a notice about one order: the unit, the finding, the deadline and the level,
    each on its own line, after an optional first sentence (``lead``)."""
    lines = [lead] if lead else []
    lines += [f"责任单位：{unit}", f"问题：{finding}", f"级别：{level}"]
    lines.append(f"整改期限：{format_deadline(deadline, tz)}" if deadline else "整改期限：未定")
    return "\n".join(lines)


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


class Titled(Protocol):
    """What rendering needs of a notification (the model satisfies it)."""

    title: str
    body: str


def message_text(notices: Sequence[Titled]) -> Text:
    """One notice as itself; several as one digest listing them all, so a person due many
    reminders at once gets one message, not a flood."""
    if len(notices) == 1:
        return Text(notices[0].title, notices[0].body)
    parts = [f"您有 {len(notices)} 条待办提醒："]
    for number, notice in enumerate(notices, start=1):
        parts.append(f"\n{number}. {notice.title}")
        parts += [f"   {line}" for line in notice.body.splitlines() if line.strip()]
    return Text(f"您有 {len(notices)} 条待办提醒", "\n".join(parts))
