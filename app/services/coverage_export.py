"""Coverage results as tables (CSV) and maps (GeoJSON), shared by the API and the CLI."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

import numpy as np

from app.geo.coverage import assign_to_polygons, edge_points
from app.schemas.common import OSM_ATTRIBUTION
from app.services.coverage import Area, AreaRow, CoverageResult, gap_features

CSV_COLUMNS = ("region_code", "name", "level", "of", "sources", "length_share",
               "building_share", "population_share", "p50_s", "p90_s", "total_length_m",
               "covered_length_m", "buildings", "population")


def rows_csv(rows: list[AreaRow]) -> str:
    """A row per region and source set; shares as fractions 0-1, empty when unknown."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = asdict(row)
        writer.writerow({k: "" if values[k] is None else
                         (round(values[k], 4) if isinstance(values[k], float) else values[k])
                         for k in CSV_COLUMNS})
    return out.getvalue()


def coverage_geojson(results: list[CoverageResult], area: Area) -> dict[str, Any]:
    """Uncovered street stretches of the audited region, and the nearest time per street
    (at its midpoint) for the streets in it."""
    features: list[dict[str, Any]] = []
    for result in results:
        features.extend(gap_features(result, area))
        network = result.coverage.network
        lon, lat = edge_points(network)
        inside = np.flatnonzero(assign_to_polygons(lon, lat, [area.polygons[0]]) == 0)
        mid = result.coverage.mid_seconds
        for e in inside:
            coordinates = network.edge_lonlat(int(e))
            seconds = float(mid[e])
            features.append({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coordinates.tolist()},
                "properties": {"kind": "street", "of": result.of, "edge_id": int(e),
                               "seconds": round(seconds, 1) if np.isfinite(seconds) else None,
                               "within_budget": bool(seconds <= result.coverage.budget_seconds)},
            })
    return {"type": "FeatureCollection", "features": features,
            "attribution": OSM_ATTRIBUTION}
