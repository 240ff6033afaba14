"""ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.account import ConsoleUser
from app.models.base import Base
from app.models.equipment import EquipmentPoint
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
from app.models.volunteer import Certification, Team, Volunteer

__all__ = [
    "Assignment",
    "Base",
    "Certification",
    "ConsoleUser",
    "DeliveryCursor",
    "EquipmentPoint",
    "FollowUp",
    "IdempotencyRecord",
    "Incident",
    "IncidentEvent",
    "Redemption",
    "Region",
    "Reward",
    "ServiceAccount",
    "ServiceEntry",
    "Team",
    "Volunteer",
    "Webhook",
]
