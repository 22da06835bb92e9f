"""Which models devices receive, under which scope key: the feed's one table of rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.attachments.models import PhotoRef
from server.campaigns.models import AssessmentGroup
from server.findings.models import Finding, FindingStatus
from server.notifications.models import Notification
from server.orders.models import Order, OrderRequest, OrderStatus, Response
from server.rounds.models import Assignment, Round, Team
from server.standards.models import Standard, StandardItem, StandardSection
from server.sync import feed
from server.sync.scope import campaign_key, case_key, person_key, round_key, secret_round, unit_key, work_key
from server.units.models import Unit, Zone
from server.visits.models import Answer, Visit


def _get(session: Session, model: type, ident: Any) -> Any:
    # A finding written in bulk is in no identity map: asking the database once per order
    # published with it would cost more than writing them.
    return feed.bulk_record(session, model, ident) or session.get(model, ident)


def _standard_campaign(session: Session, standard_id: int) -> int:
    return _get(session, Standard, standard_id).campaign_id


def _round_campaign(session: Session, round_id: int) -> int:
    return _get(session, Round, round_id).campaign_id


def _unit_campaign(session: Session, unit_id: int) -> int:
    return _get(session, Unit, unit_id).campaign_id


def _finding_key(session: Session, finding: Finding) -> str:
    return case_key(finding.unit_id, finding.campaign_id, secret_round(session, finding.round_id))


def _order_key(session: Session, order: Order) -> str:
    finding = _get(session, Finding, order.finding_id)
    return case_key(order.unit_id, finding.campaign_id, secret_round(session, finding.round_id))


def _photo_owner_key(session: Session, ref: PhotoRef) -> str:
    if ref.finding_id is not None:
        return _finding_key(session, _get(session, Finding, ref.finding_id))
    return _order_key(session, _get(session, Order, _get(session, Response, ref.response_id).order_id))


def _photo_campaign(session: Session, ref: PhotoRef) -> int:
    if ref.finding_id is not None:
        return _get(session, Finding, ref.finding_id).campaign_id
    order = _get(session, Order, _get(session, Response, ref.response_id).order_id)
    return _get(session, Finding, order.finding_id).campaign_id


def _visit_key(session: Session, visit: Visit) -> str:
    return work_key(visit.unit_id, secret_round(session, visit.round_id))


#: A device id is a login's identity on a phone: the feed's rows are shared by everyone with
#: the key (a unit's liaison among them), so no record carries the device it came from.
_NO_DEVICE = frozenset({"device_id"})


def register() -> None:
    P = feed.Published
    feed.publish(AssessmentGroup, P("group", lambda s, o: campaign_key(o.campaign_id), lambda s, o: o.campaign_id))
    feed.publish(Standard, P("standard", lambda s, o: campaign_key(o.campaign_id), lambda s, o: o.campaign_id))
    feed.publish(StandardSection, P("section", lambda s, o: campaign_key(_standard_campaign(s, o.standard_id)),
                                    lambda s, o: _standard_campaign(s, o.standard_id)))
    feed.publish(StandardItem, P("item", lambda s, o: campaign_key(_standard_campaign(s, o.standard_id)),
                                 lambda s, o: _standard_campaign(s, o.standard_id)))
    feed.publish(Unit, P("unit", lambda s, o: unit_key(o.id), lambda s, o: o.campaign_id))
    feed.publish(Zone, P("zone", lambda s, o: unit_key(o.unit_id), lambda s, o: o.campaign_id))
    feed.publish(Round, P("round", lambda s, o: round_key(o.id), lambda s, o: o.campaign_id))
    feed.publish(Team, P("team", lambda s, o: round_key(o.round_id), lambda s, o: _round_campaign(s, o.round_id)))
    feed.publish(Assignment, P("assignment", lambda s, o: round_key(o.round_id),
                               lambda s, o: _round_campaign(s, o.round_id)))
    feed.publish(Visit, P("visit", _visit_key, lambda s, o: _round_campaign(s, o.round_id),
                          private=frozenset({"field_meta"})))
    feed.publish(Answer, P("answer", lambda s, o: _visit_key(s, _get(s, Visit, o.visit_id)),
                           lambda s, o: _round_campaign(s, _get(s, Visit, o.visit_id).round_id)))
    feed.publish(Finding, P("finding", _finding_key, lambda s, o: o.campaign_id,
                            gone=lambda o: o.status is FindingStatus.VOIDED, private=_NO_DEVICE | {"field_meta"}))
    feed.publish(Order, P("order", _order_key, lambda s, o: _get(s, Finding, o.finding_id).campaign_id,
                          gone=lambda o: o.status is OrderStatus.VOIDED))
    feed.publish(Response, P("response", lambda s, o: _order_key(s, _get(s, Order, o.order_id)),
                             lambda s, o: _unit_campaign(s, o.unit_id), private=_NO_DEVICE))
    # A unit's requests (延期/回退/挂账/作废) and their decisions, where the order is seen.
    feed.publish(OrderRequest, P("order_request", lambda s, o: _order_key(s, _get(s, Order, o.order_id)),
                                 lambda s, o: _get(s, Finding, _get(s, Order, o.order_id).finding_id).campaign_id,
                                 private=_NO_DEVICE))
    feed.publish(PhotoRef, P("photo", _photo_owner_key, _photo_campaign, private=_NO_DEVICE))
    # Campaign 0 is no campaign: a notice must never ride along with a whole-campaign scope
    # (a supervisor's), only with its person's key.
    feed.publish(Notification, P("notification", lambda s, o: person_key(o.user_id), lambda s, o: 0,
                                 private=frozenset({"dedupe_key"})))

