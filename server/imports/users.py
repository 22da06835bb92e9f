"""Users file: accounts for supervisors, inspectors, liaisons and admins."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Role, User
from server.auth.passwords import generate as new_password
from server.auth.scope import Who, accounts_condition, manages_account
from server.auth.services import user_problems
from server.campaigns.models import Campaign
from server.imports.base import Column, Context, Outcome, Problem, Record, Spec, assign, choice, code, email, phone
from server.imports.messages import say
from server.imports.references import UnitCodes
from server.units.models import Unit

#: Each role as the office's lists name it (and an export writes it).
ROLE_NAMES = {Role.ADMIN: "管理员", Role.SUPERVISOR: "督查员", Role.INSPECTOR: "检查员", Role.LIAISON: "联络员"}
ROLES = {**{role.value: role for role in Role}, **{name: role for role, name in ROLE_NAMES.items()}}

COLUMNS = (
    Column("username", ("用户名", "账号"), required=True, max_length=64, parse=code),
    Column("display_name", ("姓名",), required=True, max_length=100),
    Column("role", ("角色",), required=True, parse=choice(ROLES)),
    #: Unit code; liaisons must have one and nobody else may.
    Column("unit", ("单位", "单位编码", "所属单位"), max_length=64, parse=code),
    Column("phone", ("电话", "手机", "联系电话"), max_length=40, parse=phone),
    Column("email", ("邮箱", "电子邮箱"), max_length=200, parse=email),
    #: Only for new accounts; left empty, one is generated and shown once.
    Column("password", ("密码", "初始密码"), max_length=128),
)

#: The header an export writes, in column order: every column but the password, which is
#: stored only as a hash and which an import never changes for an existing account anyway.
HEADERS = ("用户名", "姓名", "角色", "单位编码", "电话", "邮箱")


def check(context: Context, records: list[Record]) -> list[Problem]:
    units = UnitCodes(context)
    usernames = [rec.values["username"] for rec in records if rec.values.get("username")]
    existing = {user.username: user for user in context.session.scalars(
        sa.select(User).where(User.username.in_(usernames)))} if usernames else {}
    problems = []
    for rec in records:
        user = rec.refs["user"] = existing.get(rec.values.get("username", ""))
        unit_code = rec.values.get("unit")
        # Without a unit column the account keeps its unit, and the rules apply to that.
        unit_id = units.ids.get(unit_code) if unit_code else (
            None if "unit" in rec.values or user is None else user.unit_id)
        rec.refs["unit_id"] = unit_id
        if unit_code and unit_id is None:
            problems.append(rec.problem("unit", units.unknown(unit_code)))
        role = rec.values.get("role")
        if role is None:
            continue  # its cell is already reported
        refusal = _refusal(context, user, role)
        if refusal:
            problems.append(rec.problem(*refusal))
            continue
        # An existing account's password is never changed by an import, so it is not judged either.
        password = None if user is not None else rec.values.get("password") or None
        user_inputs = tuple(rec.values.get(name) or "" for name in ("username", "display_name", "email"))
        for column, message in user_problems(role=role, unit_id=unit_id, password=password,
                                             user_inputs=user_inputs):
            if not (column == "unit" and unit_code and unit_id is None):
                problems.append(rec.problem(column, message))
    return problems


def _refusal(context: Context, user: User | None, role: Role) -> tuple[str, str] | None:
    """Why the importing user may not write this row (the column and the message), if so: each
    row is an account they may create, or one they manage (:func:`manages_account`) kept so."""
    actor = context.actor
    if actor is None:
        return None  # the command line
    if user is not None and not manages_account(actor, "user.import", user.role, user.campaign_id):
        # Said alike for an account out of sight and a staff one: the username is simply not theirs.
        return "username", say("account_not_managed")
    if not manages_account(actor, "user.import", role, _campaign_of(context, role)):
        return "role", say("staff_role", role=role.value)
    return None


def _campaign_of(context: Context, role: Role) -> int | None:
    # Admins work across campaigns.
    return None if role is Role.ADMIN else context.campaign.id


def apply(context: Context, records: list[Record]) -> list[Outcome]:
    outcomes = []
    ignored_passwords = 0
    for rec in records:
        values = rec.values
        role = values["role"]
        fields = {"display_name": values["display_name"], "role": role, "unit_id": rec.refs["unit_id"],
                  "campaign_id": _campaign_of(context, role),
                  **{name: values[name] for name in ("phone", "email") if name in values}}
        user = rec.refs["user"]
        if user is None:
            password = values.get("password") or new_password()
            if not values.get("password"):
                context.report.generated_passwords[values["username"]] = password
            context.session.add(User(username=values["username"], password_hash=context.hasher.hash(password),
                                     **fields))
            outcomes.append(Outcome.CREATED)
        else:
            ignored_passwords += bool(values.get("password"))
            outcomes.append(Outcome.UPDATED if assign(user, fields) else Outcome.UNCHANGED)
    if ignored_passwords:
        context.report.notes.append(say("note.passwords_kept", count=ignored_passwords))
    return outcomes


def user_rows(session: Session, campaign: Campaign, manager: Who | None = None) -> list[list[object]]:
    """The campaign's accounts that ``manager`` manages (:func:`accounts_condition`; None: the
    command line, every one) as the rows of a users file, header first. Admin accounts belong to
    no campaign and are listed for admins, as the import puts them back: in none. Disabled
    accounts are listed too; the import neither disables nor enables."""
    in_campaign = sa.or_(User.campaign_id == campaign.id, User.role == Role.ADMIN)
    managed = sa.true() if manager is None else accounts_condition(manager)
    rank = {role: index for index, role in enumerate(ROLE_NAMES)}
    found = session.execute(sa.select(User, Unit.code).outerjoin(Unit, Unit.id == User.unit_id)
                            .where(in_campaign, managed)).all()
    rows: list[list[object]] = [list(HEADERS)]
    for user, unit_code in sorted(found, key=lambda row: (rank[row[0].role], row[0].username)):
        rows.append([user.username, user.display_name, ROLE_NAMES[user.role], unit_code or "", user.phone,
                     user.email])
    return rows


SPEC = Spec(kind="users", columns=COLUMNS, unique=("username",), check=check, apply=apply)
