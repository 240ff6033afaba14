"""ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.account import ConsoleUser
from app.models.base import Base
from app.models.equipment import EquipmentPoint, InventoryLine, Telemetry
from app.models.hazard import Hazard, HazardEvent, Patrol, PatrolHazard, PatrolPlace
from app.models.incident import (
    Assignment,
    DeliveryCursor,
    IdempotencyRecord,
    Incident,
    IncidentEvent,
    Webhook,
)
from app.models.region import Region
from app.models.service import FollowUp, Redemption, Reward, ServiceAccount, ServiceEntry
from app.models.training import Assessment, Course, CourseModule, TrainingSession
from app.models.volunteer import Certification, Team, Volunteer
from app.models.warning import RiskWarning, WarningSubscription

__all__ = [
    "Assessment",
    "Assignment",
    "Base",
    "Certification",
    "ConsoleUser",
    "Course",
    "CourseModule",
    "DeliveryCursor",
    "EquipmentPoint",
    "FollowUp",
    "Hazard",
    "HazardEvent",
    "IdempotencyRecord",
    "Incident",
    "IncidentEvent",
    "InventoryLine",
    "Patrol",
    "PatrolHazard",
    "PatrolPlace",
    "Redemption",
    "Region",
    "Reward",
    "RiskWarning",
    "ServiceAccount",
    "ServiceEntry",
    "Team",
    "Telemetry",
    "TrainingSession",
    "Volunteer",
    "WarningSubscription",
    "Webhook",
]
