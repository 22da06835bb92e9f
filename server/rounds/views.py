from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from server import db
from server.api import Blueprint
from server.auth.models import Role
from server.auth.permissions import Permission
from server.auth.scope import rounds_condition
from server.auth.security import current_user, requires
from server.errors import NotFound
from server.pagination import PageArgsSchema, page_schema, paginate
from server.rounds.models import Round, Team
from server.rounds.schemas import RoundDetailSchema, RoundSchema

blp = Blueprint("rounds", __name__, url_prefix="/api/v1", description="Inspection rounds and their teams")


@blp.get("/rounds")
@requires(Permission.READ_ROUNDS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(RoundSchema))
def list_rounds(args: dict[str, Any]) -> dict[str, Any]:
    stmt = sa.select(Round).where(rounds_condition(current_user()))
    return paginate(db.session(), stmt, Round.id, args)


@blp.get("/rounds/<int:round_id>")
@requires(Permission.READ_ROUNDS)
@blp.response(200, RoundDetailSchema)
def get_round(round_id: int) -> dict[str, Any]:
    user = current_user()
    found = db.session().scalar(
        sa.select(Round).where(Round.id == round_id, rounds_condition(user))
        .options(selectinload(Round.teams).selectinload(Team.members),
                 selectinload(Round.teams).selectinload(Team.assignments)))
    if found is None:
        raise NotFound(f"No round {round_id}.")
    # Team composition is internal to the inspectors: a liaison sees the round, not who comes.
    teams = [] if user.role is Role.LIAISON else found.teams
    return {**{name: getattr(found, name) for name in RoundSchema().fields}, "teams": teams}
