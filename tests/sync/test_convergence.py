"""Several phones edit offline at random and sync in random orders, losing answers on the way.

When everyone has synced, every phone holds exactly what the server holds for it; no
acknowledged mutation is lost and none is applied twice.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from sample_client import Device, NetworkError, WSGITransport
from server.auth.models import Role
from server.findings.models import Finding, FindingStatus
from server.orders.models import Order
from server.sync.models import SyncReceipt
from tests import factories
from tests.factories import PASSWORD

TEXTS = st.sampled_from(["杂物堆积墙边", "卫生死角", "宣传专栏未更新", "楼道管线杂乱", "旱厕脏臭", "窗台灰尘厚积"])
_names = itertools.count()


def test_phones_converge_whatever_the_order_and_the_losses(app, session, hasher, clock):
    class Patrol(RuleBasedStateMachine):
        @initialize(skews=st.lists(st.integers(-24 * 60, 24 * 60), min_size=3, max_size=3))
        def setup(self, skews: list[int]) -> None:
            n = next(_names)
            campaign = factories.campaign(session, name=f"收敛 {n}")
            self.units = [factories.unit(session, campaign) for _ in range(2)]
            inspector = factories.user(session, hasher, Role.INSPECTOR, campaign=campaign, username=f"insp{n}")
            factories.user(session, hasher, Role.SUPERVISOR, campaign=campaign, username=f"sup{n}")
            rnd = factories.round_(session, campaign)
            factories.team(session, rnd, members=[inspector], units=self.units)
            session.commit()
            self.campaign_id = campaign.id
            self.lose_next: dict[int, bool] = {}
            self.phones: list[Device] = []
            for index, (username, skew) in enumerate(zip([f"insp{n}", f"insp{n}", f"sup{n}"], skews)):
                # One phone compresses (its larger pushes go gzip-encoded, its pages come back
                # gzip-encoded): the same rules must hold whatever the wire carries.
                transport = WSGITransport(app, drop=lambda method, path, i=index: self.lose_next.pop(i, False),
                                          compress=index == 1)
                phone = Device(transport, clock=lambda s=skew: clock.now() + dt.timedelta(minutes=s))
                phone.login(username, PASSWORD)
                self.phones.append(phone)
            self.created_by: list[set[str]] = [set(), set(), set()]

        def _findings(self, phone: Device) -> list[str]:
            return sorted(i for (e, i) in phone.store.records("finding"))

        @rule(phone=st.integers(0, 2), unit=st.integers(0, 1), text=TEXTS)
        def capture(self, phone: int, unit: int, text: str) -> None:
            self.created_by[phone].add(self.phones[phone].create(
                "finding", {"unit_id": self.units[unit].id, "category": "环境卫生", "description": text}))

        @rule(phone=st.integers(0, 2), pick=st.integers(0, 50), text=TEXTS, where=TEXTS)
        def edit(self, phone: int, pick: int, text: str, where: str) -> None:
            found = self._findings(self.phones[phone])
            if found:
                self.phones[phone].update("finding", found[pick % len(found)],
                                          {"description": text, "location_text": where})

        @rule(phone=st.integers(0, 2), pick=st.integers(0, 50))
        def delete(self, phone: int, pick: int) -> None:
            found = self._findings(self.phones[phone])
            if found:
                self.phones[phone].delete("finding", found[pick % len(found)])

        @rule(phone=st.integers(0, 2), lose=st.booleans())
        def push(self, phone: int, lose: bool) -> None:
            self.lose_next[phone] = lose
            try:
                self._record(self.phones[phone].push())
            except NetworkError:
                pass  # the answer was lost; the outbox is intact and will be sent again
            self.lose_next.pop(phone, None)

        @rule(phone=st.integers(0, 2), lose=st.booleans())
        def pull(self, phone: int, lose: bool) -> None:
            self.lose_next[phone] = lose
            try:
                self.phones[phone].pull()
            except NetworkError:
                pass
            self.lose_next.pop(phone, None)

        @rule(minutes=st.integers(1, 600))
        def time_passes(self, minutes: int) -> None:
            clock.advance(dt.timedelta(minutes=minutes))

        def _record(self, results: list[dict]) -> None:  # type: ignore[type-arg]
            for result in results:
                if result["outcome"] == "rejected":
                    # An inspector may delete only what they reported (not a supervisor's finding);
                    # the answer carries the server's copy, which the phone takes back.
                    assert result["op"] == "delete" and result["problem"]["code"] == "forbidden", result
                    assert result["server"]["id"] == result["id"]
                else:
                    assert result["outcome"] in {"applied", "merged", "duplicate", "conflict"}, result

        @invariant()
        def nothing_applied_twice(self) -> None:
            if not hasattr(self, "campaign_id"):
                return
            session.rollback()
            findings = session.scalar(sa.select(sa.func.count()).select_from(Finding)
                                      .where(Finding.campaign_id == self.campaign_id))
            orders = session.scalar(sa.select(sa.func.count()).select_from(Order).join(Finding)
                                    .where(Finding.campaign_id == self.campaign_id))
            assert orders == findings  # one order per finding, never two

        def teardown(self) -> None:
            if not hasattr(self, "campaign_id"):
                return
            self.lose_next.clear()
            for phone in self.phones:
                phone.push()
            for phone in self.phones:
                phone.pull()
            session.rollback()
            server = {str(f.id): f for f in session.scalars(sa.select(Finding).where(
                Finding.campaign_id == self.campaign_id))}
            live = {i: f for i, f in server.items() if f.status is not FindingStatus.VOIDED}
            for phone, created in zip(self.phones, self.created_by):
                assert phone.store.outbox_depth() == 0
                held = {i: d for (e, i), d in phone.store.records("finding").items()}
                assert set(held) == set(live)
                for finding_id, data in held.items():
                    assert data["description"] == live[finding_id].description
                    assert data["location_text"] == live[finding_id].location_text
                    assert data["version"] == live[finding_id].version
                # Every finding this phone captured reached the server (none lost), and every
                # mutation it queued was answered exactly once.
                device = uuid.UUID(phone.device_id)
                assert {i for i, f in server.items() if f.device_id == device} == created
                receipts = session.scalar(sa.select(sa.func.count()).select_from(SyncReceipt)
                                          .where(SyncReceipt.device_id == device))
                assert receipts == phone.store.get("next_seq", 1) - 1

    run_state_machine_as_test(Patrol, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
