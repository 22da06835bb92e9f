"""Every model, imported in one place so the metadata is complete for Alembic and the tests."""

from server.assessment.models import Circular, CircularStatus, RankingExclusion, RoundAssessment, TierMethod
from server.attachments.models import FlagKind, Photo, PhotoFlag, PhotoRef, PhotoRole
from server.audit.models import ActorKind, AuditEvent
from server.auth.models import AuthToken, Device, RateLimitCounter, Role, User
from server.campaigns.models import AssessmentGroup, Campaign
from server.db import Base
from server.findings.models import Finding, FindingStatus, Severity
from server.notifications.models import Delivery, DeliveryChannel, DeliveryStatus, Notification
from server.orders.models import (Escalation, Order, OrderRequest, OrderStatus, PolicyVersion, RequestKind,
                                  RequestStatus, Response)
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, Team, TeamMember
from server.sync.models import (DevicePush, DeviceSyncState, QuarantinedMutation, ScopeSnapshot, SyncConflict,
                                 SyncCounter, SyncReceipt, SyncRow)
from server.standards.models import ScoringModel, Standard, StandardItem, StandardSection
from server.units.models import ContactRole, Unit, UnitContact, Zone, ZoneKind
from server.visits.models import Answer, AnswerResult, Visit, VisitStatus
from server.worktime.models import HolidayYear, OfficialDay

__all__ = [
    "ActorKind", "Answer", "AnswerResult", "AssessmentGroup", "Assignment", "AuditEvent", "AuthToken",
    "Base", "Campaign", "RateLimitCounter", "ContactRole", "Device", "Finding", "FindingStatus", "Order", "OrderStatus",
    "FlagKind", "Photo", "PhotoFlag", "PhotoRef", "PhotoRole", "Response", "Role", "Round", "RoundMode", "RoundStatus",
    "ScoringModel", "Severity", "Standard", "StandardItem", "StandardSection", "Team", "TeamMember",
    "Unit", "UnitContact", "User", "Visit", "VisitStatus", "Zone", "ZoneKind",
    "DevicePush", "DeviceSyncState", "QuarantinedMutation", "ScopeSnapshot", "SyncConflict", "SyncCounter",
    "SyncReceipt", "SyncRow", "Delivery", "DeliveryChannel", "DeliveryStatus", "Notification",
    "Circular", "CircularStatus", "RankingExclusion", "RoundAssessment", "TierMethod",
    "HolidayYear", "OfficialDay", "Escalation", "OrderRequest", "PolicyVersion", "RequestKind", "RequestStatus",
]
