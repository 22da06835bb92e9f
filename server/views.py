"""The API blueprints, in the order they appear in the OpenAPI document."""

from server.attachments.views import blp as photos
from server.auth.views import blp as auth
from server.health.views import blp as health
from server.rounds.views import blp as rounds
from server.sync.views import blp as sync
from server.units.views import blp as units
from server.users.views import blp as users

BLUEPRINTS = (health, auth, users, units, rounds, sync, photos)
