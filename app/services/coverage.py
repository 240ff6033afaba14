"""The 4-minute circle of a region: coverage by usable AEDs and qualified responders.

One multi-source walking search over the city's whole network per source set (app.geo
does the work); this module picks the sources from the registry at the moment asked,
assigns streets and buildings to the region and its children by their boundaries, and
turns the result into per-region rows, gaps and placement proposals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.geo.coverage import (
    EdgeCoverage,
    assign_to_polygons,
    building_weights,
    coverage_summary,
    edge_coverage,
    edge_points,
    length_summary,
    point_times,
    spread_population,
    uncovered_stretches,
)
from app.geo.placement import (
    Demand,
    least_valuable_sources,
    length_demand,
    node_sites,
    place_sources,
    point_sites,
    site_lonlat,
)
from app.geo.snap import SnappedPoints, snap_points
from app.live.state import LiveState
from app.models import Certification, EquipmentPoint, Region, Volunteer
from app.models.volunteer import Skill, VolunteerStatus
from app.networks import CityNetwork, NetworkRegistry
from app.services.readiness import Readiness, assess_equipment
from app.services.scope import city_of
from app.spatial import wgs84_lonlat

RESPONDER_SKILL = Skill.cpr


class CoverageOf(StrEnum):
    aed = "aed"
    responders = "responders"
    both = "both"


@dataclass(frozen=True)
class Sources:
    """Points on the network (edge, offset, seconds of off-street leg) and their ids."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_id: np.ndarray
    offset_m: np.ndarray
    offstreet_m: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def _sources(city: CityNetwork, ids: list[int], lonlat: list[tuple[float, float]]) -> Sources:
    if not ids:
        empty = np.zeros(0)
        return Sources(np.zeros(0, np.int64), empty, empty, np.zeros(0, np.int64), empty, empty)
    xy = np.asarray(lonlat, dtype=np.float64)
    snapped = snap_points(city.network, xy[:, 0], xy[:, 1])
    keep = snapped.ok
    return Sources(np.asarray(ids, np.int64)[keep], xy[keep, 0], xy[keep, 1],
                   snapped.edge_id[keep].astype(np.int64), snapped.offset_m[keep],
                   snapped.distance_m[keep])


def aed_sources(session: Session, city_region: Region, city: CityNetwork, *, at: datetime
                ) -> tuple[Sources, Sources]:
    """(usable, unverified) AEDs anywhere in the city at ``at``: an AED across a district
    border still covers the streets on this side."""
    rows = session.execute(select(
        EquipmentPoint.id, EquipmentPoint.location, EquipmentPoint.status,
        EquipmentPoint.opening_hours, EquipmentPoint.pads_expire_on,
        EquipmentPoint.battery_expires_on, EquipmentPoint.last_verified_on,
        EquipmentPoint.device_state, EquipmentPoint.telemetry_due_by)
        .join(Region, Region.id == EquipmentPoint.region_id)
        .where(EquipmentPoint.kind == "aed",
               Region.path.startswith(city_region.path, autoescape=True))).all()
    usable: tuple[list[int], list[tuple[float, float]]] = ([], [])
    unverified: tuple[list[int], list[tuple[float, float]]] = ([], [])
    for row in rows:
        state = assess_equipment(row, timezone=city_region.timezone, at=at).state
        bucket = {Readiness.usable: usable, Readiness.unverified: unverified}.get(state)
        if bucket is not None:
            bucket[0].append(row.id)
            bucket[1].append(wgs84_lonlat(row.location))
    return _sources(city, *usable), _sources(city, *unverified)


class ResponderPlacement(StrEnum):
    anchors = "anchors"
    live = "live"


def _qualified_responders(city_region: Region, at: datetime) -> Select:
    return (select(Volunteer.id, Volunteer.home_location, Volunteer.duty_location)
            .join(Region, Region.id == Volunteer.region_id)
            .where(Volunteer.status == VolunteerStatus.active.value,
                   Region.path.startswith(city_region.path, autoescape=True),
                   Volunteer.id.in_(select(Certification.volunteer_id).where(
                       Certification.skill == RESPONDER_SKILL.value,
                       Certification.valid_at(at)))))


def live_responder_sources(session: Session, city_region: Region, city: CityNetwork,
                           live: LiveState, *, at: datetime) -> Sources:
    """Qualified responders where they are now: on duty with a fresh plausible fix."""
    fixes = {f.volunteer_id: f for f in live.on_duty_fresh(now=at, city_code=city.city_code)}
    qualified = set(session.scalars(
        _qualified_responders(city_region, at).with_only_columns(Volunteer.id)
        .where(Volunteer.id.in_(list(fixes)))))
    ids = sorted(qualified)
    return _sources(city, ids, [(fixes[i].lon, fixes[i].lat) for i in ids])


def responder_sources(session: Session, city_region: Region, city: CityNetwork, *,
                      at: datetime) -> Sources:
    """Qualified responders placed at their home and duty anchors (for planning)."""
    rows = session.execute(_qualified_responders(city_region, at))
    ids: list[int] = []
    points: list[tuple[float, float]] = []
    for volunteer_id, home, duty in rows:
        for anchor in (home, duty):
            if anchor is not None:
                ids.append(volunteer_id)
                points.append(wgs84_lonlat(anchor))
    return _sources(city, ids, points)


@dataclass(frozen=True)
class Area:
    """The audited region (index 0) and its children, with their polygons."""

    regions: list[Region]
    polygons: list[shapely.Geometry | None]


def areas(session: Session, region: Region, city: CityNetwork) -> Area:
    children = list(session.scalars(select(Region).where(Region.parent_id == region.id)
                                    .order_by(Region.code)))
    polygons = [to_shape(r.boundary) if r.boundary is not None else None
                for r in (region, *children)]
    if polygons[0] is None:
        if region.parent_id is not None:
            raise Unprocessable(f"region {region.code} has no boundary to audit",
                                field="region")
        polygons[0] = city.hull  # a city without a boundary: its whole network
    return Area([region, *children], polygons)


def _groups(lon: np.ndarray, lat: np.ndarray, area: Area) -> list[np.ndarray]:
    """Per area, a mask of the items inside it (children may overlap nothing)."""
    masks = []
    for polygon in area.polygons:
        if polygon is None:
            masks.append(np.zeros(lon.shape[0], bool))
        else:
            masks.append(assign_to_polygons(lon, lat, [polygon]) == 0)
    return masks


@dataclass
class CityWeights:
    """Edges and buildings of the city, assigned to the audited areas (computed once)."""

    edge_masks: list[np.ndarray]
    building_snapped: SnappedPoints | None
    building_weight: np.ndarray
    building_masks: list[np.ndarray]
    building_population: list[np.ndarray]


def city_weights(city: CityNetwork, area: Area) -> CityWeights:
    lon, lat = edge_points(city.network)
    edge_masks = _groups(lon, lat, area)
    buildings = city.buildings()
    if buildings is None or len(buildings) == 0:
        empty = np.zeros(0)
        return CityWeights(edge_masks, None, empty, [np.zeros(0, bool)] * len(edge_masks),
                           [empty] * len(edge_masks))
    weight = building_weights(buildings.area_m2, buildings.levels)
    masks = _groups(buildings.lon, buildings.lat, area)
    population = []
    for region, mask in zip(area.regions, masks, strict=True):
        if region.population:
            groups = np.where(mask, 0, -1)
            population.append(spread_population(np.array([float(region.population)]), weight,
                                                groups))
        else:
            population.append(np.zeros(weight.shape[0]))
    snapped = snap_points(city.network, buildings.lon, buildings.lat)
    return CityWeights(edge_masks, snapped, weight, masks, population)


@dataclass(frozen=True)
class AreaRow:
    region_code: str
    name: str
    level: str
    of: str
    sources: int
    length_share: float | None
    building_share: float | None
    population_share: float | None
    p50_s: float | None
    p90_s: float | None
    total_length_m: float
    covered_length_m: float
    buildings: int
    population: int | None


def _seconds(value: float) -> float | None:
    """Quantiles are inf when the share beyond reach exceeds them; JSON has no inf: None."""
    return round(value, 1) if math.isfinite(value) else None


def _masked_share(seconds: np.ndarray, weights: np.ndarray, mask: np.ndarray,
                  budget: float) -> float | None:
    if not mask.any() or weights[mask].sum() <= 0:
        return None
    summary = coverage_summary(seconds[mask], weights[mask], budget_seconds=budget)
    return float(summary.share[0])


@dataclass
class CoverageResult:
    of: str
    coverage: EdgeCoverage
    sources: Sources
    rows: list[AreaRow] = field(default_factory=list)


def coverage_rows(coverage: EdgeCoverage, *, of: str, sources: Sources, area: Area,
                  weights: CityWeights) -> list[AreaRow]:
    budget = coverage.budget_seconds
    building_seconds = (point_times(coverage, np.zeros(0), np.zeros(0),
                                    snapped=weights.building_snapped).seconds
                        if weights.building_snapped is not None else np.zeros(0))
    rows = []
    for region, edge_mask, building_mask, population in zip(
            area.regions, weights.edge_masks, weights.building_masks,
            weights.building_population, strict=True):
        groups = np.where(edge_mask, 0, -1)
        summary = length_summary(coverage, edge_groups=groups, n_groups=1)
        has_length = summary.total[0] > 0
        rows.append(AreaRow(
            region_code=region.code, name=region.name, level=region.level, of=of,
            sources=len(sources),
            length_share=float(summary.share[0]) if has_length else None,
            building_share=_masked_share(building_seconds, weights.building_weight,
                                         building_mask, budget),
            population_share=_masked_share(building_seconds, population, building_mask,
                                           budget) if region.population else None,
            p50_s=_seconds(float(summary.p50_seconds[0])) if has_length else None,
            p90_s=_seconds(float(summary.p90_seconds[0])) if has_length else None,
            total_length_m=float(summary.total[0]), covered_length_m=float(summary.covered[0]),
            buildings=int(building_mask.sum()), population=region.population))
    return rows


def audit(session: Session, networks: NetworkRegistry, region: Region, *, minutes: float,
          of: CoverageOf, at: datetime, include_unverified: bool,
          speed_mps: float | None, responders: ResponderPlacement = ResponderPlacement.anchors,
          live: LiveState | None = None) -> tuple[Area, CityNetwork, list[CoverageResult]]:
    """Coverage of ``region`` and each child: one result per source set asked for."""
    city_region = city_of(session, region)
    city = networks.get(city_region.code)
    if city is None:
        raise Unprocessable(f"no walking network has been imported for city "
                            f"{city_region.code}", field="region", code="no_network")
    area = areas(session, region, city)
    weights = city_weights(city, area)
    speed = speed_mps or region.responder_speed_mps
    budget = minutes * 60.0
    source_sets: list[tuple[str, Sources]] = []
    if of in (CoverageOf.aed, CoverageOf.both):
        usable, unverified = aed_sources(session, city_region, city, at=at)
        source_sets.append(("aed", usable))
        if include_unverified:
            source_sets.append(("aed_including_unverified", _concat(usable, unverified)))
    if of in (CoverageOf.responders, CoverageOf.both):
        if responders is ResponderPlacement.live:
            if live is None:
                raise Unprocessable("live responder positions are not available here",
                                    field="responders")
            source_sets.append(("responders_live", live_responder_sources(
                session, city_region, city, live, at=at)))
        else:
            source_sets.append(("responders", responder_sources(session, city_region, city,
                                                                at=at)))
    results = []
    for name, sources in source_sets:
        coverage = edge_coverage(city.network, sources.edge_id, sources.offset_m,
                                 speed_mps=speed, budget_seconds=budget,
                                 source_extra_seconds=sources.offstreet_m / speed)
        results.append(CoverageResult(name, coverage, sources, coverage_rows(
            coverage, of=name, sources=sources, area=area, weights=weights)))
    return area, city, results


def _concat(a: Sources, b: Sources) -> Sources:
    return Sources(*(np.concatenate((getattr(a, f), getattr(b, f)))
                     for f in ("ids", "lon", "lat", "edge_id", "offset_m", "offstreet_m")))


def gap_features(result: CoverageResult, area: Area, *, min_length_m: float = 10.0
                 ) -> list[dict[str, Any]]:
    """The street stretches of the audited region beyond the budget, as GeoJSON lines."""
    stretches = uncovered_stretches(result.coverage, min_length_m=min_length_m)
    if len(stretches) == 0:
        return []
    offsets, lon, lat = stretches.coordinates()
    polygon = area.polygons[0]
    features = []
    for i in range(len(stretches)):
        line = np.column_stack((lon[offsets[i]:offsets[i + 1]], lat[offsets[i]:offsets[i + 1]]))
        if line.shape[0] < 2 or not shapely.intersects_xy(polygon, *line[line.shape[0] // 2]):
            continue
        features.append({"type": "Feature",
                         "geometry": {"type": "LineString", "coordinates": line.tolist()},
                         "properties": {"of": result.of,
                                        "edge_id": int(stretches.edge_id[i]),
                                        "length_m": round(float(stretches.length_m[i]), 1)}})
    return features


class CandidateKind(StrEnum):
    nodes = "nodes"
    buildings = "buildings"


@dataclass(frozen=True)
class ProposedSite:
    lon: float
    lat: float
    gain_m: float
    cumulative_share: float


@dataclass(frozen=True)
class MovableAed:
    equipment_id: int
    lon: float
    lat: float
    unique_m: float
    covered_m: float


@dataclass(frozen=True)
class PlacementResult:
    region_code: str
    budget_s: float
    uncovered_before_m: float
    total_length_m: float
    sites: list[ProposedSite]
    least_valuable: list[MovableAed]


def propose_placements(session: Session, networks: NetworkRegistry, region: Region, *,
                       count: int, minutes: float, candidates: CandidateKind, at: datetime,
                       speed_mps: float | None, max_candidates: int = 20_000
                       ) -> PlacementResult:
    """Where ``count`` new AEDs would cover the most uncovered street length of ``region``
    (greedy maximal covering, each site with its marginal gain), and which existing AEDs
    cover least that no other AED covers (candidates to move)."""
    area, city, results = audit(session, networks, region, minutes=minutes, of=CoverageOf.aed,
                                at=at, include_unverified=False, speed_mps=speed_mps)
    return placements_for(region, area, city, results[0], count=count, candidates=candidates,
                          max_candidates=max_candidates)


def placements_for(region: Region, area: Area, city: CityNetwork, result: CoverageResult, *,
                   count: int, candidates: CandidateKind, max_candidates: int = 20_000
                   ) -> PlacementResult:
    """Placement from a usable-AED coverage already computed (the audit report reuses its
    own instead of searching the city again)."""
    coverage, network = result.coverage, city.network
    speed, budget = coverage.speed_mps, coverage.budget_seconds
    inside = area.polygons[0]

    def in_region(demand: Demand) -> Demand:
        lon, lat = site_lonlat(network, demand.edge_id, demand.offset_m)
        return demand.subset(shapely.contains_xy(inside, lon, lat))

    gaps = in_region(length_demand(coverage))
    if candidates is CandidateKind.buildings:
        buildings = city.buildings()
        if buildings is None or len(buildings) == 0:
            raise Unprocessable("this city's extract has no buildings", field="candidates")
        sites = point_sites(snap_points(network, buildings.lon, buildings.lat), speed_mps=speed,
                            lon=buildings.lon, lat=buildings.lat)
    else:
        nodes = np.flatnonzero(network.node_in_main & shapely.contains_xy(
            inside, network.node_lon, network.node_lat))
        sites = node_sites(network, nodes)
    placement = place_sources(network, gaps, count=count, speed_mps=speed,
                              budget_seconds=budget, candidates=sites,
                              max_candidates=max_candidates)
    total = area_total_length(result)
    covered_before = total - gaps.total
    proposed, running = [], covered_before
    for k, gain in enumerate(placement.gain):  # placement.sites: the picks, in order
        running += float(gain)
        proposed.append(ProposedSite(lon=round(float(placement.sites.lon[k]), 7),
                                     lat=round(float(placement.sites.lat[k]), 7),
                                     gain_m=round(float(gain), 1),
                                     cumulative_share=running / total if total else 0.0))
    least: list[MovableAed] = []
    if len(result.sources):
        existing = point_sites(
            SnappedPoints(result.sources.edge_id.astype(np.int32), result.sources.offset_m,
                          result.sources.lon, result.sources.lat, result.sources.offstreet_m),
            speed_mps=speed)
        values = least_valuable_sources(network, existing, in_region(
            length_demand(coverage, covered=True)), speed_mps=speed, budget_seconds=budget)
        for k in values.order[:min(10, len(values.order))]:
            least.append(MovableAed(equipment_id=int(result.sources.ids[k]),
                                    lon=float(result.sources.lon[k]),
                                    lat=float(result.sources.lat[k]),
                                    unique_m=round(float(values.unique_weight[k]), 1),
                                    covered_m=round(float(values.covered_weight[k]), 1)))
    return PlacementResult(region.code, budget, round(gaps.total, 1), round(total, 1),
                           proposed, least)


def area_total_length(result: CoverageResult) -> float:
    return result.rows[0].total_length_m
