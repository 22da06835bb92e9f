"""Circulars: generate a draft from the data, edit its text, publish it frozen with its snapshot."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.assessment.models import Circular, CircularStatus
from server.assessment.results import RoundResult, from_json, to_json
from server.assessment.services import assess_round, config_for
from server.audit.services import record
from server.auth.models import User
from server.campaigns.models import Campaign
from server.clock import Clock
from server.errors import Conflict, ValidationFailed
from server.findings.models import Finding, FindingStatus, Severity
from server.orders.models import Escalation, Order, OrderStatus
from server.reports import bulletin as bulletins
from server.reports import messages
from server.reports.bulletin import Bulletin
from server.reports.circular import OrderTally, Problem, compose
from server.reports.document import Document, chinese_date, text_length
from server.reports.models import BulletinIssue
from server.rounds.models import Round
from server.units.models import Unit

#: Worst first when a circular picks its examples.
SEVERITY_RANK = {Severity.MINOR: 0, Severity.NORMAL: 1, Severity.SERIOUS: 2, Severity.URGENT: 3}


def round_problems(session: Session, round_id: int) -> list[Problem]:
    rows = session.execute(
        sa.select(Unit.name, Finding.category, Finding.description, Finding.severity, Finding.observed_at)
        .join(Unit, Unit.id == Finding.unit_id)
        .where(Finding.round_id == round_id, Finding.status != FindingStatus.VOIDED)
        .order_by(Finding.observed_at, Finding.id))
    return [Problem(unit, category, description, SEVERITY_RANK[severity], observed)
            for unit, category, description, severity, observed in rows]


def order_tally(session: Session, round_id: int, as_of: dt.datetime) -> OrderTally:
    of_round = (sa.select(Order.id).join(Finding, Finding.id == Order.finding_id)
                .where(Finding.round_id == round_id, Order.status != OrderStatus.VOIDED))
    count = lambda *where: session.scalar(  # noqa: E731
        sa.select(sa.func.count()).select_from(Order).where(Order.id.in_(of_round), *where)) or 0
    escalated = session.scalar(sa.select(sa.func.count(sa.distinct(Escalation.order_id)))
                               .where(Escalation.order_id.in_(of_round), Escalation.escalated_at <= as_of)) or 0
    return OrderTally(closed=count(Order.status == OrderStatus.CLOSED, Order.closed_at <= as_of),
                      overdue=count(Order.status == OrderStatus.ISSUED, Order.due_at < as_of),
                      escalated=escalated)


def local_today(session: Session, round_: Round, clock: Clock) -> dt.date:
    campaign = session.get_one(Campaign, round_.campaign_id)
    return clock.now().astimezone(ZoneInfo(campaign.timezone)).date()


def draft_of(session: Session, round_id: int) -> Circular | None:
    return session.scalar(sa.select(Circular).where(Circular.round_id == round_id,
                                                    Circular.status == CircularStatus.DRAFT))


#: What the clerk sets on a circular rather than the data: kept when a draft is generated again.
HEADER_FIELDS = ("issuer", "number", "addressees", "dated", "copies", "printer", "printed")


def generate(session: Session, clock: Clock, round_: Round, user: User | None, *, examples: int,
             header: dict[str, str] | None = None) -> Circular:
    """Write the round's draft circular from the data as it is now; an existing draft's text is
    replaced (a published one is never touched) but its 文号, 主送, date and 版记 stay, unless
    ``header`` gives them anew. Does not commit."""
    now = clock.now()
    result = assess_round(session, round_, now)
    config = config_for(session, round_.id)
    document = compose(result, round_problems(session, round_.id), order_tally(session, round_.id, now),
                       requirements=config.requirements, closing=config.closing, examples=examples,
                       dated=local_today(session, round_, clock))
    circular = draft_of(session, round_.id)
    kept = {k: circular.document[k] for k in HEADER_FIELDS if circular and k in circular.document}
    document.update({**kept, **{k: v for k, v in (header or {}).items() if k in HEADER_FIELDS}})  # type: ignore[typeddict-item]
    if circular is None:
        circular = Circular(round_id=round_.id, status=CircularStatus.DRAFT, version=0)
        session.add(circular)
    circular.document, circular.snapshot = dict(document), to_json(result)
    circular.generated_at, circular.generated_by = now, user.id if user else None
    circular.version += 1
    session.flush()
    record(session, clock, "circular.generated", actor_id=user.id if user else None, entity="circular",
           entity_id=circular.id, data={"round_id": round_.id})
    return circular


def _editable(circular: Circular) -> None:
    if circular.status is CircularStatus.PUBLISHED:
        raise Conflict(f"Circular {circular.id} is published and frozen; generate a new draft to change it.")


def edit(session: Session, clock: Clock, circular: Circular, user: User | None, document: Document, *,
         version: int, max_chars: int) -> Circular:
    """Replace a draft's text with the supervisor's; ``version`` must be the one they edited."""
    _editable(circular)
    if version != circular.version:
        raise Conflict(f"The draft changed since version {version}; it is at version {circular.version}.",
                       current_version=circular.version)
    length = text_length(document)
    if length > max_chars:
        raise ValidationFailed(f"The text has {length} characters, more than the {max_chars} allowed.",
                               errors=[{"field": "document", "message": messages.say("circular_too_long", limit=max_chars)}])
    circular.document = dict(document)
    circular.version += 1
    record(session, clock, "circular.edited", actor_id=user.id if user else None, entity="circular",
           entity_id=circular.id, data={"version": circular.version})
    return circular


def publish(session: Session, clock: Clock, circular: Circular, user: User | None) -> Circular:
    """Freeze the draft as it reads now, with the date the clerk set (today when there is none);
    its snapshot stays what it was generated from."""
    _editable(circular)
    if not circular.document.get("dated", "").strip():
        round_ = session.get_one(Round, circular.round_id)
        circular.document = {**circular.document, "dated": chinese_date(local_today(session, round_, clock))}
    circular.status = CircularStatus.PUBLISHED
    circular.published_at, circular.published_by = clock.now(), user.id if user else None
    circular.version += 1
    record(session, clock, "circular.published", actor_id=user.id if user else None, entity="circular",
           entity_id=circular.id, data={"round_id": circular.round_id})
    return circular


def snapshot_of(circular: Circular) -> RoundResult:
    return from_json(circular.snapshot)


# -- bulletins -----------------------------------------------------------------------------------

def bulletin_counts(session: Session, clock: Clock, campaign: Campaign, start: dt.date, end: dt.date) -> Bulletin:
    """The period's counts, with its number when the period was issued."""
    found = bulletins.collect(session, campaign, start, end, clock.now())
    found.number = session.scalar(sa.select(BulletinIssue.number).where(
        BulletinIssue.campaign_id == campaign.id, BulletinIssue.starts_on == start, BulletinIssue.ends_on == end))
    return found


def issue_bulletin(session: Session, clock: Clock, campaign: Campaign, start: dt.date, end: dt.date,
                   user: User | None) -> BulletinIssue:
    """Give the period the campaign's next number (第N期); a period issued before keeps its own.
    Does not commit."""
    where = (BulletinIssue.campaign_id == campaign.id, BulletinIssue.starts_on == start, BulletinIssue.ends_on == end)
    issued = session.scalar(sa.select(BulletinIssue).where(*where))
    if issued is not None:
        return issued
    last = session.scalar(sa.select(sa.func.max(BulletinIssue.number)).where(BulletinIssue.campaign_id == campaign.id))
    issued = BulletinIssue(campaign_id=campaign.id, number=(last or 0) + 1, starts_on=start, ends_on=end,
                           issued_at=clock.now(), issued_by=user.id if user else None)
    savepoint = session.begin_nested()
    try:
        session.add(issued)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict("Another bulletin was issued at the same time; nothing was changed. Try again.") from None
    savepoint.commit()
    record(session, clock, "bulletin.issued", actor_id=user.id if user else None, entity="bulletin_issue",
           entity_id=issued.id, data={"number": issued.number, "start": start.isoformat(), "end": end.isoformat()})
    return issued


def bulletin_document(session: Session, clock: Clock, campaign: Campaign, start: dt.date, end: dt.date, *,
                      font: str, max_units: int) -> tuple[Bulletin, Document, dict[str, bytes]]:
    """The bulletin's counts, its text, and its charts (none when no Chinese font is found)."""
    from server.reports.charts import find_cjk_font

    found = bulletin_counts(session, clock, campaign, start, end)
    font_path = find_cjk_font(font)
    figures = bulletins.draw_charts(found, font_path, max_units=max_units) if font_path else {}
    today = clock.now().astimezone(ZoneInfo(campaign.timezone)).date()
    return found, bulletins.compose(found, charts=font_path is not None, dated=today), figures
