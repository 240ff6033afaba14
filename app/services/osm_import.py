"""Import an OpenStreetMap extract for a city: walking network, AEDs, buildings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.geo.osm_import import Aed, read_osm
from app.models import EquipmentPoint, Region
from app.models.base import SRID_WGS84
from app.models.equipment import Access, EquipmentKind, EquipmentSource, EquipmentStatus
from app.models.region import RegionLevel
from app.networks import NetworkRegistry, publish_network
from app.services.anchors import resnap_city
from app.services.regions import create_city
from app.settings import Settings
from app.spatial import lonlat_element

RESTRICTED_ACCESS = frozenset({"no", "private", "customers", "permit", "delivery"})


@dataclass(frozen=True)
class OsmImportSummary:
    city_code: str
    version: str
    nodes: int
    edges: int
    length_km: float
    main_component_share: float
    aeds_created: int
    aeds_updated: int
    buildings: int
    equipment_resnapped: int
    volunteers_resnapped: int

    def describe(self) -> str:
        return (f"city {self.city_code}: network {self.version} with {self.nodes} nodes, "
                f"{self.edges} edges, {self.length_km:.1f} km "
                f"({self.main_component_share:.0%} in the main component); "
                f"AEDs {self.aeds_created} new, {self.aeds_updated} updated; "
                f"{self.buildings} buildings; re-snapped {self.equipment_resnapped} equipment "
                f"points and {self.volunteers_resnapped} volunteers. "
                "Data © OpenStreetMap contributors (ODbL).")


def _osm_key(aed: Aed) -> int | None:
    # One id space: nodes keep their id, ways are negated; relations are too rare to key.
    if aed.osm_type == "node":
        return aed.osm_id
    if aed.osm_type == "way":
        return -aed.osm_id
    return None


def _apply_aed(equipment: EquipmentPoint, aed: Aed) -> None:
    equipment.name = aed.name or f"AED (OpenStreetMap {aed.osm_type} {aed.osm_id})"
    equipment.location = lonlat_element(aed.lon, aed.lat)
    equipment.opening_hours = aed.opening_hours or "24/7"
    equipment.access = (Access.restricted if (aed.access or "").lower() in RESTRICTED_ACCESS
                        else Access.public).value
    equipment.indoor = (aed.indoor or "").lower() not in ("", "no")
    equipment.floor_note = "; ".join(
        part for part in (f"level {aed.level}" if aed.level else "", aed.location or "") if part
    )[:200]


def _upsert_aeds(session: Session, city: Region, aeds: tuple[Aed, ...]) -> tuple[int, int]:
    keyed = {key: aed for aed in aeds if (key := _osm_key(aed)) is not None}
    existing = {e.osm_id: e for e in session.scalars(
        select(EquipmentPoint).where(EquipmentPoint.osm_id.in_(list(keyed))))} if keyed else {}
    created = updated = 0
    for key, aed in keyed.items():
        equipment = existing.get(key)
        if equipment is None:
            # Imported AEDs are unverified: no expiry dates, never checked on site.
            equipment = EquipmentPoint(kind=EquipmentKind.aed.value, osm_id=key,
                                       source=EquipmentSource.osm.value, region_id=city.id,
                                       status=EquipmentStatus.available.value,
                                       notes="Imported from OpenStreetMap; not verified.")
            session.add(equipment)
            created += 1
        elif equipment.source != EquipmentSource.osm.value:
            continue  # taken over by an administrator: their record wins
        else:
            updated += 1
        _apply_aed(equipment, aed)
    session.flush()
    return created, updated


def import_osm(session: Session, settings: Settings, path: Path, *, city_code: str,
               name: str | None = None, timezone: str = "Asia/Shanghai",
               registry: NetworkRegistry | None = None) -> OsmImportSummary:
    """Read ``path`` and make its walking network the city's live network.

    Creates the city region when missing (boundary = the network's convex hull), upserts
    the extract's AEDs as unverified equipment, stores its buildings as coverage weights
    and re-snaps the city's equipment and volunteer anchors onto the new network."""
    if not path.is_file():
        raise Unprocessable(f"{path} does not exist", field="file")
    extract = read_osm(path, rules=settings.walkable_rules())
    network = extract.network
    if network.edge_count == 0:
        raise Unprocessable(f"{path.name} contains no walkable ways", field="file")
    city = session.scalar(select(Region).where(Region.code == city_code))
    if city is None:
        city = create_city(session, code=city_code, name=name or city_code, timezone=timezone)
    elif city.level != RegionLevel.city:
        raise Unprocessable(f"{city_code} is a {city.level}, not a city", field="city")
    if city.boundary is None:
        hull = network.convex_hull()
        if hull.geom_type == "Polygon":
            city.boundary = from_shape(MultiPolygon([hull]), srid=SRID_WGS84)
    created, updated = _upsert_aeds(session, city, extract.aeds)
    main_share = float(network.node_in_main.mean()) if network.node_count else 0.0
    version = publish_network(settings.data_dir, city_code, network, extract.buildings,
                              meta={"source": path.name, "buildings": len(extract.buildings),
                                    "aeds": len(extract.aeds),
                                    "attribution": "© OpenStreetMap contributors"})
    registry = registry or NetworkRegistry(settings.data_dir)
    registry.refresh(force=True)
    live = registry.get(city_code)
    assert live is not None and live.version == version  # we have just published it
    equipment_count, volunteer_count = resnap_city(session, live)
    return OsmImportSummary(
        city_code=city_code, version=version, nodes=network.node_count,
        edges=network.edge_count, length_km=network.total_length_m / 1000,
        main_component_share=main_share, aeds_created=created, aeds_updated=updated,
        buildings=len(extract.buildings), equipment_resnapped=equipment_count,
        volunteers_resnapped=volunteer_count)
