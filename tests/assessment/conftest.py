"""Helpers for assessment tests: visits with answers written as a device's sync would leave them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from server.findings.models import Finding, FindingStatus, Severity
from server.standards.models import StandardItem, StandardSection
from server.visits.models import Answer, AnswerResult, Visit, VisitStatus


def items_of(session, standard_id: int) -> list[StandardItem]:  # type: ignore[no-untyped-def]
    return list(session.scalars(
        sa.select(StandardItem).join(StandardSection, StandardSection.id == StandardItem.section_id)
        .where(StandardItem.standard_id == standard_id).order_by(StandardSection.position, StandardItem.position)))


def add_visit(session, *, round_id: int, unit_id: int, inspector_id: int, at: dt.datetime,  # type: ignore[no-untyped-def]
              answers: dict[int, tuple[str, int, Decimal | None]], methods: str = "实地查看、查阅资料") -> Visit:
    """``answers``: item id → (result, instances, score)."""
    visit = Visit(id=uuid.uuid4(), round_id=round_id, unit_id=unit_id, inspector_id=inspector_id,
                  status=VisitStatus.SUBMITTED, started_at=at, methods=methods, version=1, field_meta={})
    session.add(visit)
    session.flush()
    for item_id, (result, instances, score) in answers.items():
        session.add(Answer(id=uuid.uuid4(), visit_id=visit.id, item_id=item_id, result=AnswerResult(result),
                           instances=instances, score=score, answered_by=inspector_id, answered_at=at))
    session.flush()
    return visit


def add_finding(session, *, campaign_id: int, unit_id: int | None, reporter_id: int, at: dt.datetime,  # type: ignore[no-untyped-def]
                category: str = "环境卫生", description: str = "办公楼西侧杂物堆积墙边",
                round_id: int | None = None, severity: Severity = Severity.NORMAL,
                status: FindingStatus = FindingStatus.COMPLETE) -> Finding:
    finding = Finding(id=uuid.uuid4(), campaign_id=campaign_id, unit_id=unit_id, round_id=round_id,
                      category=category, description=description, severity=severity, status=status,
                      reported_by=reporter_id, observed_at=at, version=1, field_meta={})
    session.add(finding)
    session.flush()
    return finding


def deduction_answers(items: list[StandardItem], deduction: Decimal) -> dict[int, tuple[str, int, Decimal | None]]:
    """Failed items whose per-instance rules add up to exactly ``deduction``, the rest passed."""
    answers: dict[int, tuple[str, int, Decimal | None]] = {}
    remaining = deduction
    for item in items:
        per = item.deduction_per_instance
        count = int(min(remaining // per, item.max_score // per)) if per > 0 else 0
        answers[item.id] = ("fail", count, None) if count else ("pass", 0, None)
        remaining -= per * count
    assert remaining == 0, f"cannot deduct {deduction} with these items"
    return answers


@pytest.fixture
def bearer(client):  # type: ignore[no-untyped-def]
    def make(username: str, password: str) -> dict[str, Any]:
        response = client.post("/api/v1/auth/login", json={
            "username": username, "password": password, "device": {"name": "办公室电脑", "platform": "web"}})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return make
