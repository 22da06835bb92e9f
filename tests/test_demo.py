"""The demo data package: built from the seed circulars, loadable twice, usable through the API."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from shapely.geometry import shape

import media

from server.auth.models import Role, User
from server.campaigns.models import AssessmentGroup, Campaign
from server.models import Base  # every model, so the snapshot covers every table
from server.demo import (DEMO_CREDENTIALS, credentials_table, data, load_demo, load_demo_work, print_credentials,
                         unit_aliases)
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, Team, TeamMember
from server.standards.models import ScoringModel, Standard, StandardItem, StandardSection
from server.units.models import Unit, UnitContact, Zone, ZoneKind

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
TIERS_002 = ("好", "较好", "一般", "较差")
GROUPS = ["区域创建组", "片区创建组", "重点任务组", "共性任务组"]
#: Where a problem is found in a building or on a street, the finding needs its photo.
PHYSICAL_CATEGORIES = {"环境卫生", "门前四包", "包抓片区", "家属院"}


# -- the seeds, parsed here rather than trusted from units.csv --------------------------------

def _seed(prefix: str) -> str:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not files:
        pytest.skip(f"seed circular {prefix}_*.txt not found under {SEEDS}")
    return files[0].read_text(encoding="utf-8")


def _names(listing: str) -> list[str]:
    return [name.strip() for name in listing.strip().rstrip("。.").split("、") if name.strip()]


def seed_002_ranking() -> dict[str, list[str]]:
    """结果排序 of seed 002: the four tiers, plus the units it left unranked under 暂未排序."""
    text = _seed("002")
    tiers = {m.group(1): _names(m.group(2)) for m in re.finditer(
        r"^\d、(好|较好|一般|较差)的部门、单位[:：](.+)$", text, re.MULTILINE)}
    assert list(tiers) == list(TIERS_002), "seed 002 no longer has its four tiers"
    excluded = re.search(r"[(（]([^()（）]*暂未排序)[)）]", text)
    assert excluded, "seed 002 no longer names the units it left unranked"
    tiers["暂未排序"] = [re.match(r"(.+?)因", part).group(1) for part in excluded.group(1).split("、")]
    return tiers


def seed_000_results() -> dict[str, dict[str, list[str]]]:
    """考核结果 of seed 000: group -> tier (优秀 / 良好) -> unit names."""
    text = _seed("000")
    results: dict[str, dict[str, list[str]]] = {}
    group = None
    for line in text[text.index("三、考核结果"):].splitlines():
        line = line.strip()
        if heading := re.fullmatch(r"[(（].[)）](\S+组)", line):
            group = heading.group(1)
            results[group] = {}
        elif (tier := re.fullmatch(r"(优秀|良好)[:：](.+)", line)) and group:
            results[group][tier.group(1)] = _names(tier.group(2))
    assert list(results) == GROUPS, "seed 000 no longer has its four groups"
    return results


def names_002() -> list[str]:
    return [name for names in seed_002_ranking().values() for name in names]


def groups_000() -> dict[str, str]:
    return {name: group for group, tiers in seed_000_results().items()
            for names in tiers.values() for name in names}


# -- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def demo(session, clock, hasher):  # type: ignore[no-untyped-def]
    created = load_demo(session, clock, hasher)
    session.commit()
    return created


@pytest.fixture
def work(app, session, clock, demo):  # type: ignore[no-untyped-def]
    """The demo with its fortnight of patrol work, ending at the test clock's now."""
    limits = media.Limits(max_bytes=app.config["MEDIA_MAX_BYTES"], max_pixels=app.config["MEDIA_MAX_PIXELS"])
    with app.app_context():
        return load_demo_work(session, clock.now(), app.extensions["xuncha.media"], limits)


def patrol_round(session) -> Round:  # type: ignore[no-untyped-def]
    return session.scalar(sa.select(Round).where(Round.status == RoundStatus.ACTIVE))


def units_by_name(session) -> dict[str, Unit]:  # type: ignore[no-untyped-def]
    return {u.name: u for u in session.scalars(sa.select(Unit))}


def demo_round(session) -> Round:  # type: ignore[no-untyped-def]
    return session.scalar(sa.select(Round).where(Round.name == "2008年下半年双创目标任务检查"))


def team_unit_names(session, team_name: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(session.scalars(
        sa.select(Unit.name).join(Assignment, Assignment.unit_id == Unit.id)
        .join(Team, Team.id == Assignment.team_id).where(Team.name == team_name)))


def login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={
        "username": username, "password": password, "device": {"name": "演示机", "platform": "android"}})


def token_for(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    password = next(c[2] for c in DEMO_CREDENTIALS if c[1] == username)
    response = login(client, username, password)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def snapshot(session) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    return {table.name: sorted((tuple(row) for row in session.execute(sa.select(table))), key=repr)
            for table in Base.metadata.sorted_tables}


# -- units and groups ---------------------------------------------------------------------------

def test_the_seeds_parse_to_the_counts_they_print():
    ranking = seed_002_ranking()
    # "对115个市级部门和中省驻安单位 ... 进行了较为全面的检查"
    assert sum(len(names) for names in ranking.values()) == 115
    assert ranking["暂未排序"] == ["西铁安康办", "化龙山管理局"]
    results = seed_000_results()
    assert [len(results[g]["优秀"]) for g in GROUPS] == [13, 12, 22, 63]
    assert "安康城投有限公司" in results["共性任务组"]["优秀"]


def test_every_unit_name_the_seeds_rank_exists_exactly(session, demo):
    units = units_by_name(session)
    printed = set(names_002()) | set(groups_000())
    missing = sorted(printed - set(units))
    assert not missing, f"units printed in the seeds but not loaded: {missing}"
    # One row per distinct printed name, nothing invented beside them.
    assert set(units) == printed
    assert len(units) == 186


def test_spellings_of_one_body_are_separate_units_linked_in_the_data(session, demo):
    units = units_by_name(session)
    for old, new in [("市纪委监察局", "市纪委监委"), ("新华书店", "市新华书店"), ("市卫生局", "市卫计局")]:
        assert old in units and new in units and units[old].id != units[new].id
    same_as = {row.name: row.same_as for row in data.units()}
    assert same_as["新华书店"] == "市新华书店" and same_as["市纪委监察局"] == "市纪委监委"
    # Printed identically in both seeds: one unit.
    assert same_as["人行安康支行"] == "" and "人行安康分行" not in units
    aliases = unit_aliases()
    assert aliases["人行安康分行"] == "人行安康支行"
    assert aliases["市党史研究室"] == "市党研室"
    assert not set(aliases) & set(units)
    assert all(name == name.strip() and " " not in name for name in units)


def test_groups_exist_in_the_order_seed_000_reports_them(session, demo):
    campaign = session.scalar(sa.select(Campaign))
    assert (campaign.name, campaign.office, campaign.timezone) == ("安康市双创工作", "市双创办", "Asia/Shanghai")
    groups = session.scalars(sa.select(AssessmentGroup).order_by(AssessmentGroup.position)).all()
    assert [g.name for g in groups] == GROUPS


def test_units_sit_in_the_group_seed_000_lists_them_under(session, demo):
    units = units_by_name(session)
    listed = groups_000()
    for name, group in listed.items():
        assert units[name].group.name == group, name
    same_as = {row.name: row.same_as for row in data.units()}
    for name in set(names_002()) - set(listed):
        counterpart = same_as[name]
        expected = listed[counterpart] if counterpart else "共性任务组"
        assert units[name].group.name == expected, name
    assert units["市卫生局"].group.name == "重点任务组"  # via 市卫计局
    assert units["市乡企局"].group.name == "共性任务组"  # no counterpart in seed 000


def test_unit_codes_are_ascii_stable_and_follow_the_group(session, demo):
    units = units_by_name(session)
    positions = {g: i for i, g in enumerate(GROUPS, start=1)}
    for unit in units.values():
        assert re.fullmatch(r"G[1-4]-\d{3}", unit.code), unit.code
        assert unit.code.startswith(f"G{positions[unit.group.name]}-"), (unit.name, unit.code)
    # Pinned: devices and imports know units by these codes.
    assert {name: units[name].code for name in ["安康高新区", "江北大道片区", "市城管局(创建办)", "市审计局",
                                                 "市新华书店", "新华书店"]} == {
        "安康高新区": "G1-001", "江北大道片区": "G2-001", "市城管局(创建办)": "G3-001", "市审计局": "G4-001",
        "市新华书店": "G4-068", "新华书店": "G4-124"}


# -- standard, round, teams, zones --------------------------------------------------------------

def test_the_standard_deducts_from_100_over_sections_that_add_up(session, demo):
    standard = session.scalar(sa.select(Standard))
    assert (standard.version, standard.scoring_model, standard.full_score) == (1, ScoringModel.DEDUCTION, 100)
    assert standard.published_at is not None
    sections = session.scalars(sa.select(StandardSection).order_by(StandardSection.position)).all()
    assert sum(s.max_score for s in sections) == Decimal(100)
    assert [s.title for s in sections] == ["组织领导", "档案台帐", "宣传氛围", "环境卫生", "门前四包/包抓片区", "家属院"]
    for section in sections:
        assert sum(i.max_score for i in section.items) == section.max_score, section.title
    items = session.scalars(sa.select(StandardItem)).all()
    assert len({i.code for i in items}) == len(items) >= 15
    for item in items:
        assert 0 < item.deduction_per_instance <= item.max_score, item.code
        assert "扣" in item.deduction_rule and item.text and item.category, item.code
        if item.category in PHYSICAL_CATEGORIES:
            assert item.photo_required, item.code
    assert {i.category for i in items} >= PHYSICAL_CATEGORIES | {"组织领导", "档案台帐", "宣传氛围"}
    assert any("旱厕" in i.text for i in items) and any("蛛网" in i.text for i in items)


def test_the_2008_round_has_five_teams_covering_the_115_units_once(session, demo):
    round_ = demo_round(session)
    # Closed: the current work is in the fortnight's patrol round.
    assert (round_.mode, round_.status) == (RoundMode.OPEN, RoundStatus.CLOSED)
    assert (round_.starts_on.isoformat(), round_.ends_on.isoformat()) == ("2008-10-23", "2008-10-30")
    assert round_.standard_id == session.scalar(sa.select(Standard.id))
    assert [t.name for t in round_.teams] == ["第一检查组", "第二检查组", "第三检查组", "第四检查组", "第五检查组"]

    assigned = Counter(session.scalars(
        sa.select(Unit.name).join(Assignment, Assignment.unit_id == Unit.id)
        .where(Assignment.round_id == round_.id)))
    assert set(assigned) == set(names_002())
    assert all(count == 1 for count in assigned.values())
    for team in round_.teams:
        members = session.scalars(sa.select(User).join(TeamMember, TeamMember.user_id == User.id)
                                  .where(TeamMember.team_id == team.id)).all()
        assert len(members) >= 2 and {m.role for m in members} == {Role.INSPECTOR}, team.name
        assert team.leader_id in {m.id for m in members}, team.name
        assert len(team.assignments) == 23, team.name


def test_zones_are_valid_polygons_in_ankang_with_their_bounding_boxes(session, demo):
    zones = session.scalars(sa.select(Zone).order_by(Zone.code)).all()
    assert len(zones) >= 5
    assert {ZoneKind.FRONTAGE, ZoneKind.COMPOUND, ZoneKind.PATROL_AREA} <= {z.kind for z in zones}
    shapes = {}
    for zone in zones:
        polygon = shape(zone.geometry)
        assert polygon.is_valid and polygon.area > 0, zone.code
        assert (zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat) == pytest.approx(polygon.bounds)
        assert 108.95 < zone.min_lon < zone.max_lon < 109.10 and 32.65 < zone.min_lat < zone.max_lat < 32.75
        shapes[zone.code] = polygon
    # A patrol finding is routed to the zone containing it, so two zones must not share ground.
    codes = list(shapes)
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            assert shapes[a].intersection(shapes[b]).area == 0, (a, b)
    units = units_by_name(session)
    assert {z.code for z in zones if z.unit_id == units["新华书店"].id} == {"G4-124-F1"}


# -- accounts and what they see -----------------------------------------------------------------

def test_every_role_has_an_account_and_each_printed_credential_logs_in(client, session, demo):
    assert {c[0] for c in DEMO_CREDENTIALS} == {r.value for r in Role}
    usernames = [c[1] for c in DEMO_CREDENTIALS]
    assert len(set(usernames)) == len(usernames) and "inspector" in usernames and "liaison" in usernames
    assert sum(c[0] == "inspector" for c in DEMO_CREDENTIALS) >= 5
    for role, username, password, _description in DEMO_CREDENTIALS:
        response = login(client, username, password)
        assert response.status_code == 200, (username, response.get_json())
        assert response.get_json()["user"]["role"] == role
    assert login(client, "inspector", "wrong-password-1").status_code == 401


def test_print_credentials_shows_every_account(capsys):
    print_credentials()
    out = capsys.readouterr().out
    for role, username, password, description in DEMO_CREDENTIALS:
        line = next(line for line in out.splitlines() if re.match(rf"{role}\s+{username}\s", line))
        assert password in line and description in line
    # Columns line up even with Chinese descriptions: passwords start at the same column.
    rows = credentials_table().splitlines()[2:]
    assert len({row.index(c[2]) for row, c in zip(rows, DEMO_CREDENTIALS)}) == 1


def test_the_liaison_sees_only_their_unit(client, session, demo):
    response = client.get("/api/v1/units", headers=token_for(client, "liaison"))
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [u["name"] for u in items] == ["新华书店"]
    assert [c["name"] for c in items[0]["contacts"]] == ["新华书店双创联络员"]
    contact = session.scalar(sa.select(UnitContact).where(UnitContact.unit_id == items[0]["id"]))
    assert contact.user_id == session.scalar(sa.select(User.id).where(User.username == "liaison"))


def test_the_inspector_sees_the_units_of_their_team_in_the_active_round(client, session, work):
    headers = token_for(client, "inspector")
    response = client.get("/api/v1/units", query_string={"limit": 1000}, headers=headers)
    assert response.status_code == 200, response.get_json()
    seen = {u["name"] for u in response.get_json()["items"]}
    assert seen == team_unit_names(session, "第一检查组") and len(seen) == 23
    assert "新华书店" not in seen
    rounds = client.get("/api/v1/rounds", headers=headers).get_json()["items"]
    assert [r["name"] for r in rounds if r["status"] == "active"] == [patrol_round(session).name]


def test_the_liaison_descriptions_name_the_team_that_inspects_them(session, demo):
    for spec in data.DEMO_USERS:
        if spec.role is Role.LIAISON:
            unit = session.scalar(sa.select(Unit).where(Unit.code == spec.unit_code))
            team = session.scalar(sa.select(Team).join(Assignment).where(Assignment.unit_id == unit.id))
            assert unit.name in spec.description and team.name in spec.description, spec.username


# -- loading ------------------------------------------------------------------------------------

def test_loading_twice_changes_nothing(session, clock, hasher, demo):
    assert demo["units"] == 186 and demo["assignments"] == 115 and demo["users"] == len(DEMO_CREDENTIALS)
    before = snapshot(session)
    assert sum(len(rows) for rows in before.values()) > 300
    clock.advance(dt.timedelta(hours=1))
    assert load_demo(session, clock, hasher) == {}
    session.commit()
    assert snapshot(session) == before


def test_load_demo_leaves_the_commit_to_the_caller(session, clock, hasher):
    load_demo(session, clock, hasher)
    assert session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 186
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_load_demo_is_fast(session, clock, hasher):
    started = time.perf_counter()
    load_demo(session, clock, hasher)
    session.commit()
    assert time.perf_counter() - started < 2


def test_existing_rows_are_left_as_they_are(session, clock, hasher, demo):
    round_ = demo_round(session)
    round_.status = RoundStatus.ACTIVE
    inspector = session.scalar(sa.select(User).where(User.username == "inspector"))
    inspector.password_hash = hasher.hash("changed-by-user-7")
    session.commit()
    load_demo(session, clock, hasher)
    session.commit()
    assert demo_round(session).status is RoundStatus.ACTIVE
    assert hasher.verify(inspector.password_hash, "changed-by-user-7")


def test_a_unit_imported_under_another_code_is_reused(session, clock, hasher):
    campaign = Campaign(name="安康市双创工作", office="市双创办")
    session.add(campaign)
    session.flush()
    session.add(Unit(campaign_id=campaign.id, code="SJ-AUDIT", name="市审计局"))
    session.commit()
    load_demo(session, clock, hasher)
    session.commit()
    audit = session.scalars(sa.select(Unit).where(Unit.name == "市审计局")).all()
    assert [u.code for u in audit] == ["SJ-AUDIT"]
    liaison2 = session.scalar(sa.select(User).where(User.username == "liaison2"))
    assert liaison2.unit_id == audit[0].id
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)
                          .where(Assignment.unit_id == audit[0].id)) == 1


# -- the fortnight of patrol work ----------------------------------------------------------------

def test_the_fortnight_ends_today_with_orders_in_every_status_and_escalated_twice(app, client, session, clock,
                                                                                   work):
    from server.attachments.models import Photo, PhotoRef, PhotoRole
    from server.findings.models import Finding, FindingStatus
    from server.notifications.models import Notification
    from server.orders.models import Order, OrderStatus
    from server.reports.models import BulletinIssue

    from server.orders.models import Escalation
    from server.orders.policy import current_policy

    round_ = patrol_round(session)
    today = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert (round_.ends_on, (round_.ends_on - round_.starts_on).days) == (today, 14)
    assert set(session.scalars(sa.select(Order.status).distinct())) == set(OrderStatus)
    # Every level of the policy's ladder is held by some order, each climb recorded.
    levels = {level.level for level in current_policy(session, clock).levels}
    assert set(session.scalars(sa.select(Order.level).distinct())) == levels and len(levels) >= 3
    assert set(session.scalars(sa.select(Escalation.level).distinct())) == levels - {1}
    # Overdue and still open: the sweep has moved them up (督办) with a new deadline each time.
    overdue = session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.status == OrderStatus.ISSUED, Order.level > 1))
    assert session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.status == OrderStatus.ISSUED, Order.level == max(levels)))
    observed = list(session.scalars(sa.select(Finding.observed_at)))
    assert min(observed) < clock.now() - dt.timedelta(days=13) and max(observed) <= clock.now()
    # Every finding's photo went through the pipeline into the media store.
    assert set(session.scalars(sa.select(Finding.status))) == {FindingStatus.COMPLETE}
    befores = session.scalars(sa.select(PhotoRef.sha256).where(PhotoRef.role == PhotoRole.BEFORE)).all()
    assert len(befores) == work["findings"] == session.scalar(sa.select(sa.func.count()).select_from(Finding))
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == work["photos"]
    with app.extensions["xuncha.media"].open(media.key_for(befores[0])) as original:
        assert original.read(2) == b"\xff\xd8"  # a JPEG
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) > 0
    assert session.scalar(sa.select(BulletinIssue.ends_on)) == today - dt.timedelta(days=1)
    assert work["escalation_steps"] > 0 and work["reminders"] > 0 and overdue > 0
    # Visits and their answers came in as the inspectors' phones pushed them.
    from server.visits.models import Answer, AnswerResult, Visit

    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == work["visits"] == 14
    assert set(session.scalars(sa.select(Answer.result).distinct())) >= {AnswerResult.PASS, AnswerResult.FAIL}

    # The supervisor's list shows them through the API.
    orders = client.get("/api/v1/orders", query_string={"limit": 200}, headers=token_for(client, "supervisor"))
    assert orders.status_code == 200, orders.get_json()
    assert {o["status"] for o in orders.get_json()["items"]} >= {"issued", "responded", "closed", "triage"}


def test_the_fortnight_is_made_once(app, session, clock, work):
    from server.findings.models import Finding

    count = session.scalar(sa.select(sa.func.count()).select_from(Finding))
    limits = media.Limits(max_bytes=app.config["MEDIA_MAX_BYTES"], max_pixels=app.config["MEDIA_MAX_PIXELS"])
    with app.app_context():
        assert load_demo_work(session, clock.now(), app.extensions["xuncha.media"], limits) == {}
    assert session.scalar(sa.select(sa.func.count()).select_from(Finding)) == count


def test_the_fortnights_phones_sent_the_findings_photos_and_checks_as_phones_do(session, work):
    """Findings, visits and 复查 arrived as the inspectors' phones push them, each mutation under
    its device's sequence with its receipt; the before-photos arrived from the same phone."""
    from server.attachments.models import Photo, PhotoRef, PhotoRole, PhotoUploader
    from server.audit.models import AuditEvent
    from server.auth.models import Device
    from server.findings.models import Finding
    from server.sync.models import DeviceSyncState, QuarantinedMutation, SyncConflict, SyncReceipt

    owner = dict(session.execute(sa.select(Device.id, Device.user_id)).all())
    receipts = {(device_id, result["entity"], result["id"], result["op"]): result["outcome"]
                for device_id, result in session.execute(sa.select(SyncReceipt.device_id, SyncReceipt.result))}
    findings = session.scalars(sa.select(Finding)).all()
    assert findings
    for finding in findings:
        assert owner[finding.device_id] == finding.reported_by
        assert receipts[(finding.device_id, "finding", str(finding.id), "create")] == "applied"
        before = session.scalars(sa.select(PhotoRef).where(PhotoRef.finding_id == finding.id)).all()
        assert [(ref.role, ref.device_id) for ref in before] == [(PhotoRole.BEFORE, finding.device_id)]
        photo = session.get(Photo, before[0].sha256)
        assert photo.uploaded_by_device == finding.device_id
        assert session.scalar(sa.select(PhotoUploader.user_id).where(
            PhotoUploader.sha256 == photo.sha256, PhotoUploader.device_id == finding.device_id)) == finding.reported_by
    # The inspectors' 复查 came from their phones too, as order commands.
    checks = session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(["order.closed", "order.rejected"]),
                                                         AuditEvent.actor_id.is_not(None))).all()
    assert {e.action for e in checks} == {"order.closed", "order.rejected"}
    for event in checks:
        assert owner[event.device_id] == event.actor_id
        assert receipts[(event.device_id, "order", event.entity_id, "command")] == "applied"
    # The units answered at the console: from the responder's browser, the after-photo uploaded by them.
    browsers = set(session.scalars(sa.select(Device.id).where(Device.platform == "web")))
    answers = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order.responded")).all()
    assert answers and all(e.device_id in browsers and owner[e.device_id] == e.actor_id for e in answers)
    after = session.execute(sa.select(PhotoRef.device_id, PhotoUploader.user_id)
                            .join(PhotoUploader, PhotoUploader.sha256 == PhotoRef.sha256)
                            .where(PhotoRef.role == PhotoRole.AFTER)).all()
    assert len(after) == len(answers) and all(owner[device_id] == user_id for device_id, user_id in after)
    # Each phone's sequence has no gap, its last push told the server what the client tells it,
    # and nothing it sent was refused or met a conflict.
    for state in session.scalars(sa.select(DeviceSyncState)):
        seqs = sorted(session.scalars(sa.select(SyncReceipt.seq).where(SyncReceipt.device_id == state.device_id)))
        assert seqs == list(range(1, state.last_seq + 1)) and state.telemetry["app_version"] == "sample"
    assert set(receipts.values()) == {"applied"}
    assert session.scalar(sa.select(sa.func.count()).select_from(QuarantinedMutation)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(SyncConflict)) == 0


def test_the_fortnights_street_findings_went_where_their_position_says(session, work):
    """Sent with a position and no unit: in front of a unit (门前四包) to that unit, elsewhere to triage."""
    from server.findings.models import Finding
    from server.orders.models import Order, OrderStatus

    frontages = {z.name: z.unit_id for z in session.scalars(sa.select(Zone).where(Zone.kind == ZoneKind.FRONTAGE))}
    routed = session.scalars(sa.select(Finding).where(Finding.location_text.in_(frontages))).all()
    assert routed and all(f.unit_id == frontages[f.location_text] for f in routed)
    triaged = session.scalars(sa.select(Finding).join(Order, Order.finding_id == Finding.id)
                              .where(Order.status == OrderStatus.TRIAGE)).all()
    assert triaged and all(f.unit_id is None and f.latitude is not None for f in triaged)

