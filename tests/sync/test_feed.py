"""Every committed change of a synced record lands in the feed, in commit order, once."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from server.auth.models import Role
from server.findings.models import Finding, FindingStatus
from server.sync.models import SyncRow
from tests import factories


def feed(session):  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh transaction sees what the requests committed
    return [(r.entity, r.scope_key, r.seq, r.deleted) for r in
            session.scalars(sa.select(SyncRow).order_by(SyncRow.seq))]


def test_changes_get_increasing_sequences_and_keep_one_row_per_record_and_key(session):
    campaign = factories.campaign(session)
    session.commit()
    unit = factories.unit(session, campaign, name="市审计局")
    session.commit()
    assert feed(session) == [("unit", f"u:{unit.id}", 1, False)]
    unit.address = "兴安路"
    session.commit()
    assert feed(session) == [("unit", f"u:{unit.id}", 2, False)]
    row = session.scalar(sa.select(SyncRow))
    assert json.loads(row.payload)["address"] == "兴安路" and json.loads(row.payload)["name"] == "市审计局"


def test_a_record_moving_scope_leaves_a_tombstone_behind(session, hasher, clock):
    campaign = factories.campaign(session)
    a, b = factories.unit(session, campaign), factories.unit(session, campaign)
    inspector = factories.user(session, hasher, Role.INSPECTOR, campaign=campaign)
    finding = Finding(id=uuid.uuid4(), campaign_id=campaign.id, unit_id=a.id, category="环境卫生",
                      description="杂物堆积墙边", reported_by=inspector.id, observed_at=clock.now())
    session.add(finding)
    session.commit()
    finding.unit_id = b.id
    session.commit()
    rows = {(e, k): (s, d) for e, k, s, d in feed(session) if e == "finding"}
    assert rows[("finding", f"o:{a.id}")][1] is True
    assert rows[("finding", f"o:{b.id}")][1] is False
    assert rows[("finding", f"o:{a.id}")][0] + 1 == rows[("finding", f"o:{b.id}")][0]  # one commit, two rows
    finding.status = FindingStatus.VOIDED
    session.commit()
    assert all(d for e, k, s, d in feed(session) if e == "finding")


def test_changes_rolled_back_in_a_savepoint_never_reach_the_feed(session, hasher, clock):
    campaign = factories.campaign(session)
    session.commit()
    before = feed(session)
    savepoint = session.begin_nested()
    factories.unit(session, campaign, name="不该出现")
    savepoint.rollback()
    kept = factories.unit(session, campaign, name="应当出现")
    session.commit()
    after = feed(session)
    assert len(after) == len(before) + 1 and after[-1][1] == f"u:{kept.id}"


def test_a_rolled_back_transaction_leaves_nothing_pending(session):
    campaign = factories.campaign(session)
    factories.unit(session, campaign)
    session.rollback()
    factories.campaign(session)
    session.commit()
    assert feed(session) == []


def test_every_record_of_one_commit_is_published(session):
    campaign = factories.campaign(session)
    units = [factories.unit(session, campaign) for _ in range(3)]
    session.commit()
    assert sorted(k for e, k, s, d in feed(session)) == sorted(f"u:{u.id}" for u in units)
    assert [s for e, k, s, d in feed(session)] == [1, 2, 3]
