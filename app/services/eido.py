"""An incident in the shape of NENA's Emergency Incident Data Object (EIDO, JSON), for
consoles that exchange incidents that way: the incident, its location, one emergency
resource per responder and per fetched AED, dispositions and the timeline as notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import Assignment, Incident, IncidentEvent
from app.spatial import wgs84_lonlat

SENDING_SYSTEM = "rescue-circle"
_STATUS = {"open": "Dispatched", "closed": "Closed", "cancelled": "Cancelled"}
_RESOURCE_STATUS = {"alerted": "Notified", "accepted": "Enroute", "arrived": "OnScene",
                    "released": "Released", "declined": "Declined",
                    "timed_out": "NoResponse", "cancelled": "Cancelled"}


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def incident_eido(incident: Incident, assignments: list[Assignment],
                  timeline: list[IncidentEvent], *, now: datetime) -> dict[str, Any]:
    lon, lat = wgs84_lonlat(incident.location)
    incident_id = f"urn:rescue-circle:incident:{incident.id}"
    location_id = f"loc-{incident.id}"
    resources: list[dict[str, Any]] = []
    for a in assignments:
        resources.append({
            "componentIdentifier": f"res-assignment-{a.id}",
            "resourceTypeCommonRegistryText": "Lay Responder",
            "resourceIdentifier": f"urn:rescue-circle:volunteer:{a.volunteer_id}",
            "resourceStatusCommonRegistryText": _RESOURCE_STATUS[a.status],
            "resourceRole": a.role,
            "estimatedArrivalSeconds": round(a.eta_s, 1),
            "incidentReference": {"$ref": incident_id},
        })
        if a.equipment_id is not None:
            resources.append({
                "componentIdentifier": f"res-aed-{a.equipment_id}-{a.id}",
                "resourceTypeCommonRegistryText": "AED",
                "resourceIdentifier": f"urn:rescue-circle:equipment:{a.equipment_id}",
                "resourceStatusCommonRegistryText": _RESOURCE_STATUS[a.status],
                "carriedByReference": {"$ref": f"res-assignment-{a.id}"},
                "incidentReference": {"$ref": incident_id},
            })
    incident_component: dict[str, Any] = {
        "componentIdentifier": incident_id,
        "incidentTrackingIdentifier": str(incident.id),
        "lastUpdateTimeStamp": _ts(incident.updated_at),
        "incidentTypeCommonRegistryText": incident.kind,
        "incidentStatusCommonRegistryText": _STATUS[incident.status],
        "locationReference": {"$ref": location_id},
        "emergencyResourceReference": [{"$ref": r["componentIdentifier"]} for r in resources],
    }
    if incident.outcome:
        incident_component["incidentDispositionCommonRegistryText"] = incident.outcome
    return {
        "eidoMessageIdentifier": f"urn:rescue-circle:eido:{incident.id}:{int(now.timestamp())}",
        "sendingSystemIdentifier": SENDING_SYSTEM,
        "lastUpdateTimeStamp": _ts(now),
        "messageKind": "Report",
        "incidentComponent": [incident_component],
        "locationComponent": [{
            "componentIdentifier": location_id,
            "locationByValue": {"type": "Point", "coordinates": [lon, lat], "crs": "EPSG:4326"},
            "civicAddressText": incident.address,
        }],
        "emergencyResourceComponent": resources,
        "notesComponent": [{
            "componentIdentifier": f"note-{e.id}",
            "noteDateTimeStamp": _ts(e.at),
            "noteText": e.kind + (f" (volunteer {e.volunteer_id})" if e.volunteer_id else ""),
        } for e in timeline],
    }
