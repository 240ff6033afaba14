"""ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.account import ConsoleUser
from app.models.base import Base
from app.models.equipment import EquipmentPoint
from app.models.region import Region
from app.models.volunteer import Certification, Team, Volunteer

__all__ = ["Base", "Certification", "ConsoleUser", "EquipmentPoint", "Region", "Team",
           "Volunteer"]
