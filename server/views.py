"""The API blueprints, in the order they appear in the OpenAPI document."""

from server.attachments.views import blp as photos
from server.auth.views import blp as auth
from server.findings.views import blp as findings
from server.health.views import blp as health
from server.notifications.views import admin_blp as deliveries
from server.notifications.views import blp as notifications
from server.orders.views import blp as orders
from server.reports.views import blp as reports
from server.rounds.views import blp as rounds
from server.sync.views import blp as sync
from server.units.views import blp as units
from server.users.views import blp as users
from server.visits.views import blp as visits
from server.worktime.views import blp as holidays

BLUEPRINTS = (health, auth, users, units, rounds, findings, visits, orders, sync, photos, notifications, deliveries, holidays,
              reports)
