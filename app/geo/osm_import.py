"""Read an OpenStreetMap extract (.osm.pbf or .osm XML) in one pyosmium pass.

Produces the compacted walking network (nodes = way ends and junctions, edges keep
their polylines), the AEDs (`emergency=defibrillator`) and the buildings.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import osmium
import pyproj
import shapely
from osmium.filter import KeyFilter

from app.geo.network import WalkingNetwork
from app.geo.walkable import DEFAULT_WALKABLE_RULES, WalkableRules, is_walkable

__all__ = ["Aed", "Buildings", "OsmExtract", "compact_ways", "read_osm"]


@dataclass(frozen=True, slots=True)
class Aed:
    """An `emergency=defibrillator` object (ways and areas by their centroid)."""

    osm_type: str  # "node", "way" or "relation"
    osm_id: int
    lon: float
    lat: float
    name: str | None
    opening_hours: str | None
    access: str | None
    indoor: str | None
    level: str | None
    location: str | None  # defibrillator:location


@dataclass(frozen=True, eq=False)
class Buildings:
    """Buildings (`building=*` ways and multipolygons) as parallel arrays.

    `levels` is `building:levels` rounded up to an int, -1 when absent or unparsable.
    """

    osm_id: np.ndarray  # int64
    is_relation: np.ndarray  # bool
    lon: np.ndarray  # centroid, float64
    lat: np.ndarray
    area_m2: np.ndarray  # footprint, float64
    levels: np.ndarray  # int16, -1 = unknown
    kind: tuple[str, ...]  # the building=* value

    def __len__(self) -> int:
        return int(self.osm_id.shape[0])


@dataclass(frozen=True, eq=False)
class OsmExtract:
    network: WalkingNetwork
    aeds: tuple[Aed, ...]
    buildings: Buildings


_AED_TAGS = ("name", "opening_hours", "access", "indoor", "level", "defibrillator:location")
_LEVELS = re.compile(r"\s*(\d+(?:[.,]\d+)?)")


def parse_levels(value: str | None) -> int | None:
    """`building:levels` as an int (rounded up), None when absent or not a number."""
    if not value:
        return None
    match = _LEVELS.match(value)
    if match is None:
        return None
    return math.ceil(float(match.group(1).replace(",", ".")))


def read_osm(
    path: str | os.PathLike[str],
    *,
    rules: WalkableRules = DEFAULT_WALKABLE_RULES,
    with_buildings: bool = True,
    compact: bool = True,
) -> OsmExtract:
    """Import an OSM file: walking network, AEDs and buildings.

    Parameters
    ----------
    path
        `.osm.pbf`, `.osm` (XML) or any format libosmium detects from the name.
    rules
        Walkability rule.
    with_buildings
        Also assemble building footprints (multipolygons need area assembly).
    compact
        Nodes only at junctions and way ends (the default); False makes every way
        vertex a node, with one straight edge per segment (see `compact_ways`).

    Returns
    -------
    OsmExtract
    """
    way_ids: list[int] = []
    way_names: list[str | None] = []
    way_highways: list[str] = []
    way_starts: list[int] = [0]
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    aeds: list[Aed] = []
    area_wkb: list[bytes] = []
    area_ids: list[int] = []
    area_is_relation: list[bool] = []
    area_kind: list[str] = []
    area_levels: list[int] = []
    aed_areas: list[tuple[str, int, dict[str, str]]] = []
    aed_area_wkb: list[bytes] = []
    wkb = osmium.geom.WKBFactory()
    candidates = rules.candidate_highways

    keys = ("highway", "emergency", "building") if with_buildings else ("highway", "emergency")
    processor = osmium.FileProcessor(os.fspath(path)).with_locations().with_filter(KeyFilter(*keys))
    processor = processor.with_areas(KeyFilter("building", "emergency"))
    for obj in processor:
        tags = obj.tags
        if obj.is_way():
            if tags.get("highway") in candidates and is_walkable(tags, rules):
                _add_way(obj, tags, way_ids, way_names, way_highways, way_starts, refs, lons, lats)
        elif obj.is_node():
            if tags.get("emergency") == "defibrillator":
                aeds.append(_aed("node", obj.id, obj.lon, obj.lat, tags))
        elif obj.is_area():
            is_aed = tags.get("emergency") == "defibrillator"
            building = tags.get("building") if with_buildings else None
            if not is_aed and (building is None or building == "no"):
                continue
            try:
                geometry = wkb.create_multipolygon(obj)
            except RuntimeError:
                continue
            osm_type = "way" if obj.from_way() else "relation"
            if is_aed:
                aed_areas.append((osm_type, obj.orig_id(), dict(tags)))
                aed_area_wkb.append(geometry)
            if building is not None and building != "no":
                area_wkb.append(geometry)
                area_ids.append(obj.orig_id())
                area_is_relation.append(not obj.from_way())
                area_kind.append(building)
                levels = parse_levels(tags.get("building:levels"))
                area_levels.append(-1 if levels is None else levels)

    network = compact_ways(
        np.asarray(refs, np.int64),
        np.asarray(lons, np.float64),
        np.asarray(lats, np.float64),
        np.asarray(way_starts, np.int64),
        way_ids=np.asarray(way_ids, np.int64),
        way_names=way_names,
        way_highways=way_highways,
        compact=compact,
    )
    projection = network.projection or "+proj=merc +ellps=WGS84 +units=m"
    if aed_area_wkb:
        lon, lat, _ = _centroids_and_areas(aed_area_wkb, projection)
        for (osm_type, osm_id, tags), x, y in zip(aed_areas, lon, lat, strict=True):
            aeds.append(_aed(osm_type, osm_id, float(x), float(y), tags))
    lon, lat, area = _centroids_and_areas(area_wkb, projection)
    buildings = Buildings(
        osm_id=np.asarray(area_ids, np.int64),
        is_relation=np.asarray(area_is_relation, bool),
        lon=lon,
        lat=lat,
        area_m2=area,
        levels=np.asarray(area_levels, np.int16),
        kind=tuple(area_kind),
    )
    return OsmExtract(network=network, aeds=tuple(aeds), buildings=buildings)


def _aed(osm_type: str, osm_id: int, lon: float, lat: float, tags: Mapping[str, str]) -> Aed:
    values = [tags.get(key) for key in _AED_TAGS]
    return Aed(osm_type, int(osm_id), float(lon), float(lat), *values)


def _add_way(way: Any, tags: Any, way_ids: list[int], way_names: list[str | None],
             way_highways: list[str], way_starts: list[int], refs: list[int],
             lons: list[float], lats: list[float]) -> None:
    """Append a way's node refs/locations, split into runs of valid locations."""
    run = 0
    for node in way.nodes:
        location = node.location
        if location.valid():
            refs.append(node.ref)
            lons.append(location.lon)
            lats.append(location.lat)
            run += 1
            continue
        if run:
            _close_run(way, tags, run, way_ids, way_names, way_highways, way_starts, refs,
                       lons, lats)
            run = 0
    if run:
        _close_run(way, tags, run, way_ids, way_names, way_highways, way_starts, refs, lons, lats)


def _close_run(way: Any, tags: Any, run: int, way_ids: list[int], way_names: list[str | None],
               way_highways: list[str], way_starts: list[int], refs: list[int],
               lons: list[float], lats: list[float]) -> None:
    if run < 2:
        del refs[-run:], lons[-run:], lats[-run:]
        return
    way_ids.append(way.id)
    way_names.append(tags.get("name"))
    way_highways.append(tags.get("highway"))
    way_starts.append(len(refs))


def compact_ways(
    refs: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    way_starts: np.ndarray,
    *,
    way_ids: np.ndarray | None = None,
    way_names: list[str | None] | None = None,
    way_highways: list[str | None] | None = None,
    compact: bool = True,
) -> WalkingNetwork:
    """Build the compacted network from ways given as flat node-ref runs.

    Graph nodes are way ends and nodes used more than once (shared by two ways,
    or visited twice by one). Each edge is the stretch of a way between two
    consecutive graph nodes, with its full polyline.

    Parameters
    ----------
    refs, lon, lat
        Flat OSM node ids and locations of all ways' nodes, way after way.
    way_starts
        int64[n_ways + 1]: way `w` is `refs[way_starts[w]:way_starts[w+1]]`.
    way_ids, way_names, way_highways
        Optional per-way OSM id, name and highway class.
    compact
        False: every vertex is a graph node (one edge per segment between consecutive
        vertices, as pyrosm/osmium give without simplification); same streets and
        lengths, many more nodes.
    """
    n_ways = way_starts.shape[0] - 1
    way_of = np.repeat(np.arange(n_ways), np.diff(way_starts))
    # drop consecutive repeats of the same node within a way
    keep = np.ones(refs.shape[0], bool)
    keep[1:] = (refs[1:] != refs[:-1]) | (way_of[1:] != way_of[:-1])
    refs, lon, lat, way_of = refs[keep], lon[keep], lat[keep], way_of[keep]
    counts = np.bincount(way_of, minlength=n_ways)
    long_enough = counts >= 2
    keep = long_enough[way_of]
    refs, lon, lat, way_of = refs[keep], lon[keep], lat[keep], way_of[keep]
    if refs.shape[0] == 0:
        return WalkingNetwork.from_edges([], [], [], [])

    first = np.ones(refs.shape[0], bool)
    first[1:] = way_of[1:] != way_of[:-1]
    last = np.ones(refs.shape[0], bool)
    last[:-1] = way_of[1:] != way_of[:-1]
    unique_refs, inverse = np.unique(refs, return_inverse=True)
    is_node = np.bincount(inverse) >= 2
    is_node[inverse[first | last]] = True
    if not compact:
        is_node[:] = True
    node_of_unique = np.cumsum(is_node) - 1
    node_pos = np.flatnonzero(is_node[inverse])

    starts = node_pos[:-1]
    ends = node_pos[1:]
    same_way = way_of[starts] == way_of[ends]
    starts, ends = starts[same_way], ends[same_way]
    lengths = ends - starts + 1
    geom_offsets = np.zeros(starts.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=geom_offsets[1:])
    geom_index = (np.repeat(starts - geom_offsets[:-1], lengths)
                  + np.arange(geom_offsets[-1], dtype=np.int64))

    node_unique = np.flatnonzero(is_node)
    first_pos = np.empty(unique_refs.shape[0], np.int64)
    first_pos[inverse[::-1]] = np.arange(refs.shape[0] - 1, -1, -1)
    node_first = first_pos[node_unique]
    edge_way = way_of[starts]
    return WalkingNetwork.from_edges(
        lon[node_first],
        lat[node_first],
        node_of_unique[inverse[starts]],
        node_of_unique[inverse[ends]],
        geom_offsets=geom_offsets,
        geom_lon=lon[geom_index],
        geom_lat=lat[geom_index],
        edge_names=None if way_names is None else [way_names[w] for w in edge_way],
        edge_highways=None if way_highways is None else [way_highways[w] for w in edge_way],
        edge_osm_id=None if way_ids is None else way_ids[edge_way],
        node_osm_id=unique_refs[node_unique],
    )


def _centroids_and_areas(
    wkb: list[bytes], projection: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not wkb:
        empty = np.zeros(0, np.float64)
        return empty, empty.copy(), empty.copy()
    geometries = shapely.from_wkb(np.asarray(wkb, dtype=object))
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", projection, always_xy=True)
    to_lonlat = pyproj.Transformer.from_crs(projection, "EPSG:4326", always_xy=True)
    projected = shapely.transform(
        geometries, lambda xy: np.column_stack(to_xy.transform(xy[:, 0], xy[:, 1]))
    )
    centroids = shapely.centroid(projected)
    lon, lat = to_lonlat.transform(shapely.get_x(centroids), shapely.get_y(centroids))
    return np.asarray(lon), np.asarray(lat), shapely.area(projected)
