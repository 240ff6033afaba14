"""The auditors' report: a self-contained HTML page (SVG map and tables) and its files."""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

import numpy as np
from sqlalchemy.orm import Session

from app.geo.coverage import assign_to_polygons, edge_points
from app.models import Region
from app.networks import NetworkRegistry
from app.schemas.common import OSM_ATTRIBUTION
from app.services.coverage import (
    Area,
    CandidateKind,
    CoverageOf,
    CoverageResult,
    audit,
    gap_features,
    placements_for,
)
from app.services.coverage_export import rows_csv

MAP_EDGE_LIMIT = 60_000  # beyond this the SVG map is thinned (the files keep every street)


@contextmanager
def progress(label: str, *, stream: TextIO = sys.stderr) -> Iterator[None]:
    """A one-line progress mark for long steps: `label ... done (1.2 s)`."""
    started = datetime.now()
    stream.write(f"{label} ...")
    stream.flush()
    yield
    stream.write(f" done ({(datetime.now() - started).total_seconds():.1f} s)\n")
    stream.flush()


def _svg_map(result: CoverageResult, area: Area, placements: list[tuple[float, float]],
             *, width: int = 900) -> str:
    network = result.coverage.network
    lon, lat = edge_points(network)
    inside = np.flatnonzero(assign_to_polygons(lon, lat, [area.polygons[0]]) == 0)
    if inside.shape[0] > MAP_EDGE_LIMIT:
        inside = inside[:: int(np.ceil(inside.shape[0] / MAP_EDGE_LIMIT))]
    min_lon, min_lat, max_lon, max_lat = area.polygons[0].bounds
    scale_x = np.cos(np.radians((min_lat + max_lat) / 2))
    span = max((max_lon - min_lon) * scale_x, max_lat - min_lat, 1e-9)
    height = int(width * (max_lat - min_lat) / span) or width

    def xy(lons: np.ndarray, lats: np.ndarray) -> str:
        x = (lons - min_lon) * scale_x / span * width
        y = (max_lat - lats) / span * width
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))

    budget = result.coverage.budget_seconds
    worst = result.coverage.max_seconds
    lines = []
    for e in inside:
        coords = network.edge_lonlat(int(e))
        colour = "#1a9850" if worst[e] <= budget else "#d73027"
        lines.append(f'<polyline points="{xy(coords[:, 0], coords[:, 1])}" stroke="{colour}"/>')
    dots = [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="4" fill="#2166ac"/>'
            for p in xy(result.sources.lon, result.sources.lat).split()] if len(
                result.sources) else []
    stars = [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="6" fill="none" '
             f'stroke="#762a83" stroke-width="2"/>'
             for p in xy(np.array([s[0] for s in placements]),
                         np.array([s[1] for s in placements])).split()] if placements else []
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" style="background:#fff">'
            f'<g fill="none" stroke-width="1.2">{"".join(lines)}</g>{"".join(dots)}'
            f'{"".join(stars)}</svg>')


def _table(rows: list, columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = getattr(row, c)
            if isinstance(value, float):
                value = (f"{value:.1%}" if c.endswith("share") else
                         f"{value:.6f}" if c in ("lon", "lat") else f"{value:,.0f}")
            cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


@dataclass(frozen=True)
class AuditFiles:
    report: Path
    coverage_csv: Path
    gaps: Path
    placements: Path


def write_audit(session: Session, networks: NetworkRegistry, region: Region, out: Path, *,
                minutes: float, at: datetime, include_unverified: bool, placements: int = 5,
                step: Callable[[str], object] = progress) -> AuditFiles:
    out.mkdir(parents=True, exist_ok=True)
    with step("coverage (multi-source walking search)"):
        area, city, results = audit(session, networks, region, minutes=minutes,
                                 of=CoverageOf.both, at=at,
                                 include_unverified=include_unverified, speed_mps=None)
    aed = next(r for r in results if r.of == "aed")
    with step(f"placement of {placements} new AEDs"):
        proposal = placements_for(region, area, city, aed, count=placements,
                                  candidates=CandidateKind.nodes)
    rows = [row for result in results for row in result.rows]
    files = AuditFiles(out / "report.html", out / "coverage.csv", out / "gaps.geojson",
                       out / "placements.geojson")
    with step("writing report"):
        files.coverage_csv.write_text(rows_csv(rows), encoding="utf-8")
        gaps = [f for result in results for f in gap_features(result, area)]
        files.gaps.write_text(json.dumps({"type": "FeatureCollection", "features": gaps,
                                          "attribution": OSM_ATTRIBUTION}), encoding="utf-8")
        sites = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                  "properties": {"rank": k + 1, "gain_m": s.gain_m,
                                 "cumulative_share": round(s.cumulative_share, 4)}}
                 for k, s in enumerate(proposal.sites)]
        files.placements.write_text(json.dumps({"type": "FeatureCollection", "features": sites,
                                                "attribution": OSM_ATTRIBUTION}),
                                    encoding="utf-8")
        columns = ["region_code", "name", "of", "sources", "length_share", "building_share",
                   "population_share", "p50_s", "p90_s"]
        page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>4-minute rescue circle — {html.escape(region.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>
<h1>4-minute rescue circle: {html.escape(region.name)} ({html.escape(region.code)})</h1>
<p>Budget {minutes:g} min at {aed.coverage.speed_mps:g} m/s, evaluated at {at.isoformat()}.
Map: streets within the budget of a usable AED in green, beyond it in red; AEDs in blue;
proposed new AEDs circled in purple.</p>
{_svg_map(aed, area, [(s.lon, s.lat) for s in proposal.sites])}
<h2>Coverage</h2>{_table(rows, columns)}
<h2>Where {len(proposal.sites)} new AEDs would help most</h2>
<p>Uncovered street length now: {proposal.uncovered_before_m:,.0f} m of
{proposal.total_length_m:,.0f} m.</p>
{_table(proposal.sites, ["lon", "lat", "gain_m", "cumulative_share"])}
<p><small>Street data {OSM_ATTRIBUTION} (ODbL).</small></p></body></html>"""
        files.report.write_text(page, encoding="utf-8")
    return files
