"""Dispatch ranking: who goes straight to the patient and who fetches which AED.

Pure functions over arrays (no web framework, no database). One bounded walking
search from the incident gives every responder's and every AED's walking time to
the patient (walking is symmetric); for a cardiac arrest, one small bounded search
from each AED that could still arrive in time gives the responder -> AED legs.

Times
-----
Every point (responder, AED) sits on a street (`edge_ids`, `offsets_m`) plus an
off-street leg `extra_seconds` (e.g. snap distance / speed, a cabinet inside a
lobby). The patient's own off-street leg is `incident_extra_seconds`.

- direct:  ``t_r = extra_r + walk(r, p) + extra_p``
- AED -> patient:  ``t_a = extra_a + walk(a, p) + extra_p``
- fetch:  ``f(r, a) = extra_r + walk(r, a) + extra_a + t_a`` (the AED's off-street leg
  is walked twice: in to the cabinet and back out).

Only responders with ``t_r <= budget_seconds`` are eligible, only AEDs with
``t_a <= budget_seconds`` are usable, and a fetch counts only if it brings the AED to
the patient within the budget (``f(r, a) <= budget_seconds``). Distances are
``seconds * speed_mps`` (so an off-street leg should be given as its length / speed).

Objective (exact; `assign_roles`)
---------------------------------
An assignment alerts at most `limit` responders; each is either *direct* or a
*fetcher* of one AED; a responder is used once, an AED is fetched at most once, at
most `max_fetchers` fetchers. With ``T_cpr`` = first arrival of anyone at the patient
(fetchers count, at their arrival with the AED), ``T_aed`` = first AED arrival (inf
without fetchers) and ``t_1`` = the fastest eligible responder's direct time:

1. feasibility: ``T_cpr <= t_1 + cpr_delay_seconds`` (default 0: the first arrival
   is never delayed to fetch an AED);
2. ``T_aed* = min T_aed`` over feasible assignments; keep those with
   ``T_aed <= T_aed* + aed_slack_seconds`` (default 0);
3. among them, minimise lexicographically ``(T_cpr, T_aed, 2nd AED arrival, ...)``:
   earliest first arrival, then earliest first AED, then the backup AEDs; then
   direct responders fill the remaining alerts by ETA.

So with the defaults: the first AED arrives as early as possible without delaying
the first person at the patient. Raising `cpr_delay_seconds` lets the nearest
responder fetch when that delays CPR at most that long (lone rescuer, AED on the
way); `aed_slack_seconds` then prefers keeping the nearest responder direct when
another can fetch nearly as early.

Why no linear assignment: ``T_aed`` is a minimum over the chosen pairs, not a sum,
so the best (T_cpr, T_aed) is attained by a single responder x AED pair with
everyone else direct; checking every pair of the small arrival matrix is exact and
costs microseconds. A sum-minimising assignment (`linear_sum_assignment`) would
trade the first AED's arrival against the backup's, i.e. optimise the wrong thing.
Backups are then taken greedily (earliest remaining pair; never the primary fetcher,
an AED already fetched, or the direct responder who makes the first arrival); this
is the exact lexicographic optimum when arrival times are distinct (ties: lowest
indices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.geo.network import WalkingNetwork, haversine_m
from app.geo.search import bounded_search, times_from_sources, times_to_points
from app.geo.snap import SnappedPoint, SnappedPoints

__all__ = [
    "DispatchPlan",
    "NetworkPoints",
    "ReachableAed",
    "ResponderAssignment",
    "RoleAssignment",
    "assign_roles",
    "radius_policy",
    "rank_for_incident",
]

Role = Literal["direct", "fetch_aed"]
_EPS_S = 1e-6  # seconds: comparisons tolerate float noise between different searches


# ---------------------------------------------------------------------- inputs
@dataclass(frozen=True, eq=False)
class NetworkPoints:
    """Points on the walking network (responders, AEDs) as parallel arrays.

    Attributes
    ----------
    edge_ids
        int64[n]: edge of each point, -1 when not on the network (never reached).
    offsets_m
        float64[n]: metres along the edge from its u end.
    extra_seconds
        float64[n]: off-street walking time between the point and its street position.
    """

    edge_ids: np.ndarray
    offsets_m: np.ndarray
    extra_seconds: np.ndarray

    def __post_init__(self) -> None:
        edge_ids = np.ascontiguousarray(self.edge_ids, dtype=np.int64).reshape(-1)
        offsets = np.ascontiguousarray(self.offsets_m, dtype=np.float64).reshape(-1)
        extra = np.ascontiguousarray(self.extra_seconds, dtype=np.float64).reshape(-1)
        if not edge_ids.shape == offsets.shape == extra.shape:
            raise ValueError("edge_ids, offsets_m and extra_seconds must have equal lengths")
        on = edge_ids >= 0
        if not (np.all(np.isfinite(offsets[on])) and np.all(np.isfinite(extra[on]))
                and np.all(extra[on] >= 0)):
            raise ValueError("offsets_m must be finite and extra_seconds finite and >= 0")
        for name, value in (("edge_ids", edge_ids), ("offsets_m", offsets),
                            ("extra_seconds", extra)):
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return int(self.edge_ids.shape[0])

    @classmethod
    def on_streets(cls, edge_ids: np.ndarray, offsets_m: np.ndarray,
                   extra_seconds: np.ndarray | float = 0.0) -> NetworkPoints:
        """Points given directly on edges (off-street legs default to 0 s)."""
        edge_ids = np.asarray(edge_ids)
        return cls(edge_ids, offsets_m, np.broadcast_to(extra_seconds, edge_ids.shape))

    @classmethod
    def from_snapped(cls, snapped: SnappedPoints, *, speed_mps: float) -> NetworkPoints:
        """From `snap_points`: the off-street leg is the snap distance walked at `speed_mps`."""
        ok = snapped.ok
        extra = np.where(ok, snapped.distance_m, 0.0) / speed_mps
        return cls(np.where(ok, snapped.edge_id, -1), np.where(ok, snapped.offset_m, 0.0), extra)

    def take(self, index: np.ndarray) -> NetworkPoints:
        return NetworkPoints(self.edge_ids[index], self.offsets_m[index],
                             self.extra_seconds[index])


PointsLike = NetworkPoints | tuple[np.ndarray, np.ndarray, np.ndarray]


def _as_points(points: PointsLike) -> NetworkPoints:
    return points if isinstance(points, NetworkPoints) else NetworkPoints(*points)


# ---------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class ResponderAssignment:
    """One alerted responder.

    `eta_seconds` is the arrival at the patient (for a fetcher: with the AED);
    `direct_seconds` the time walking straight to the patient; `aed` (index into the
    AED input) and `to_aed_seconds` (responder -> AED) are set for fetchers only.
    """

    responder: int
    role: Role
    eta_seconds: float
    distance_m: float
    direct_seconds: float
    aed: int | None = None
    to_aed_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class ReachableAed:
    """A usable AED: walking time and distance from it to the patient."""

    aed: int
    eta_seconds: float
    distance_m: float


@dataclass(frozen=True, eq=False)
class DispatchPlan:
    """The ranking of one incident.

    Attributes
    ----------
    responders
        Alerted responders, by `eta_seconds` (then index).
    aeds
        AEDs within the budget of the patient, by walking time (then index).
    first_responder_seconds
        Expected first arrival of anyone at the patient (None: nobody).
    first_aed_seconds
        Expected first AED arrival (None: no AED is fetched).
    reachable_responders
        How many responders can reach the patient within the budget.
    """

    responders: tuple[ResponderAssignment, ...]
    aeds: tuple[ReachableAed, ...]
    first_responder_seconds: float | None
    first_aed_seconds: float | None
    reachable_responders: int


@dataclass(frozen=True, eq=False)
class RoleAssignment:
    """Result of `assign_roles` (indices are rows/columns of its inputs).

    `fetch_responder[i]` fetches AED `fetch_aed[i]`, primary first; `direct` in
    order of their direct time.
    """

    direct: np.ndarray  # int64
    fetch_responder: np.ndarray  # int64
    fetch_aed: np.ndarray  # int64
    first_responder_seconds: float | None
    first_aed_seconds: float | None


def _none_if_inf(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# ---------------------------------------------------------------------- assignment
def assign_roles(
    direct_seconds: np.ndarray,
    fetch_seconds: np.ndarray,
    *,
    limit: int | None = None,
    max_fetchers: int = 2,
    cpr_delay_seconds: float = 0.0,
    aed_slack_seconds: float = 0.0,
) -> RoleAssignment:
    """Choose direct responders and responder -> AED fetches (the module's objective).

    Parameters
    ----------
    direct_seconds
        float[n]: each eligible responder's direct time to the patient (finite).
    fetch_seconds
        float[n, m]: arrival at the patient with AED j when responder i fetches it;
        inf where not possible.
    limit
        Most responders alerted (fetchers included); None: all.
    max_fetchers
        Most AEDs fetched (primary + backups); 0 disables fetching.
    cpr_delay_seconds, aed_slack_seconds
        Tolerances of the objective (see the module docstring).

    Returns
    -------
    RoleAssignment
    """
    t = np.asarray(direct_seconds, np.float64).reshape(-1)
    n = t.shape[0]
    f = np.asarray(fetch_seconds, np.float64)
    if f.ndim != 2 or f.shape[0] != n:
        raise ValueError("fetch_seconds must be a 2-d array with one row per responder")
    if not np.all(np.isfinite(t)):
        raise ValueError("direct_seconds must be finite (pass eligible responders only)")
    if limit is not None and limit < 1:
        raise ValueError("limit must be >= 1")
    if max_fetchers < 0 or cpr_delay_seconds < 0 or aed_slack_seconds < 0:
        raise ValueError("max_fetchers and the tolerances must be >= 0")
    empty = np.zeros(0, np.int64)
    if n == 0:
        return RoleAssignment(empty, empty, empty, None, None)
    alerts = n if limit is None else min(limit, n)
    order = np.argsort(t, kind="stable")
    fetchers: list[tuple[int, int]] = []
    if max_fetchers > 0 and f.shape[1] > 0 and np.isfinite(f).any():
        primary = _primary_pair(t, f, order, alerts, cpr_delay_seconds, aed_slack_seconds)
        if primary is not None:
            fetchers.append(primary)
    if fetchers:
        r_star, a_star = fetchers[0]
        used_r = np.zeros(n, bool)
        used_a = np.zeros(f.shape[1], bool)
        used_r[r_star] = used_a[a_star] = True
        if alerts >= 2:
            # the fastest other responder stays direct when the first arrival is his
            anchor = int(order[0] if order[0] != r_star else order[1])
            keep_anchor = bool(t[anchor] < f[r_star, a_star] - _EPS_S)
            used_r[anchor] = keep_anchor
            for _ in range(min(max_fetchers - 1, alerts - 1 - keep_anchor)):
                masked = np.where(used_r[:, None] | used_a[None, :], np.inf, f)
                k = int(np.argmin(masked))
                r, a = divmod(k, f.shape[1])
                if not math.isfinite(masked[r, a]):
                    break
                fetchers.append((r, a))
                used_r[r] = used_a[a] = True
    fetch_r = np.array([p[0] for p in fetchers], np.int64)
    fetch_a = np.array([p[1] for p in fetchers], np.int64)
    taken = np.zeros(n, bool)
    taken[fetch_r] = True
    rest = order[~taken[order]]
    direct = rest[: alerts - len(fetchers)].astype(np.int64)
    fetch_t = f[fetch_r, fetch_a] if fetchers else np.zeros(0)
    first = min(float(t[direct].min()) if direct.size else math.inf,
                float(fetch_t.min()) if fetch_t.size else math.inf)
    first_aed = float(fetch_t.min()) if fetch_t.size else math.inf
    return RoleAssignment(direct, fetch_r, fetch_a, _none_if_inf(first), _none_if_inf(first_aed))


def _primary_pair(t: np.ndarray, f: np.ndarray, order: np.ndarray, alerts: int,
                  cpr_delay_seconds: float, aed_slack_seconds: float) -> tuple[int, int] | None:
    """The pair (responder, AED) that is the earliest AED of an optimal assignment.

    With pair (r, a) as the earliest fetch and everyone else direct, the first arrival
    is min(f[r, a], fastest other responder) (only f[r, a] when a single alert is
    allowed); other fetchers could only delay it. Exact over all n x m pairs.
    """
    n = t.shape[0]
    t1 = float(t[order[0]])
    if alerts >= 2:
        best_other = np.full(n, t1)
        best_other[order[0]] = t[order[1]] if n > 1 else math.inf
    else:
        best_other = np.full(n, math.inf)
    t_cpr = np.minimum(f, best_other[:, None])
    feasible = np.isfinite(f) & (t_cpr <= t1 + cpr_delay_seconds + _EPS_S)
    if not feasible.any():
        return None
    t_aed_best = float(f[feasible].min())
    rows, cols = np.nonzero(feasible & (f <= t_aed_best + aed_slack_seconds + _EPS_S))
    # lexicographic (first arrival, first AED) with float noise folded away, then indices
    cpr_key = np.round(t_cpr[rows, cols] / _EPS_S)
    aed_key = np.round(f[rows, cols] / _EPS_S)
    best = np.lexsort((cols, rows, aed_key, cpr_key))[0]
    return int(rows[best]), int(cols[best])


# ---------------------------------------------------------------------- ranking
def rank_for_incident(
    network: WalkingNetwork,
    incident: SnappedPoint,
    responders: PointsLike,
    aeds: PointsLike,
    *,
    speed_mps: float,
    budget_seconds: float,
    limit: int | None = None,
    fetch_aed: bool = True,
    max_fetchers: int = 2,
    cpr_delay_seconds: float = 0.0,
    aed_slack_seconds: float = 0.0,
    incident_extra_seconds: float = 0.0,
    can_fetch: np.ndarray | None = None,
) -> DispatchPlan:
    """Rank responders and AEDs for one incident by walking time, with AED fetches.

    One bounded search from the incident gives the responders' and the AEDs' times to
    the patient. For a cardiac arrest (`fetch_aed`), each AED that some eligible
    responder could still bring in time (lower bound by the triangle inequality) gets
    one search bounded by the time left after its own leg to the patient; those give
    the responder -> AED legs exactly. Then `assign_roles`.

    Parameters
    ----------
    network
        The walking network.
    incident
        The snapped incident (patient) position.
    responders, aeds
        `NetworkPoints` (or a tuple edge_ids, offsets_m, extra_seconds) of the
        eligible responders and usable AEDs (filtered by the caller).
    speed_mps
        Walking speed.
    budget_seconds
        Time budget: responders, AEDs and fetches beyond it are not used.
    limit
        Most responders alerted (fetchers included); None: every eligible one.
    fetch_aed
        Cardiac arrest: route some responders responder -> AED -> patient.
    max_fetchers
        Most AEDs fetched (the first plus backups).
    cpr_delay_seconds, aed_slack_seconds
        Tolerances of the objective (module docstring); region settings.
    incident_extra_seconds
        Off-street leg between the patient and the snapped position.
    can_fetch
        bool per responder: may fetch an AED (e.g. holds a valid AED-use certificate);
        None: all may. The others can only go direct.

    Returns
    -------
    DispatchPlan
    """
    responders, aeds = _as_points(responders), _as_points(aeds)
    if not budget_seconds >= 0:
        raise ValueError("budget_seconds must be >= 0")
    if not (incident_extra_seconds >= 0 and math.isfinite(incident_extra_seconds)):
        raise ValueError("incident_extra_seconds must be finite and >= 0")
    budget = float(budget_seconds)
    network_budget = max(budget - incident_extra_seconds, 0.0)
    search = bounded_search(network, incident, budget_seconds=network_budget,
                            speed_mps=speed_mps)
    walk_r = times_to_points(search, responders.edge_ids, responders.offsets_m)
    t_r = walk_r + responders.extra_seconds + incident_extra_seconds
    eligible = np.flatnonzero(t_r <= budget)
    eligible = eligible[np.argsort(t_r[eligible], kind="stable")]
    walk_a = times_to_points(search, aeds.edge_ids, aeds.offsets_m)
    t_a = walk_a + aeds.extra_seconds + incident_extra_seconds
    usable = np.flatnonzero(t_a <= budget)
    usable = usable[np.argsort(t_a[usable], kind="stable")]

    fetch = np.full((eligible.shape[0], usable.shape[0]), np.inf)
    if fetch_aed and max_fetchers > 0 and eligible.size and usable.size:
        _fetch_times(network, responders, aeds, eligible, usable, walk_r, walk_a, t_a,
                     budget, speed_mps, fetch)
        if can_fetch is not None:
            fetch[~np.asarray(can_fetch, bool)[eligible], :] = np.inf
    roles = assign_roles(t_r[eligible], fetch, limit=limit,
                         max_fetchers=max_fetchers if fetch_aed else 0,
                         cpr_delay_seconds=cpr_delay_seconds,
                         aed_slack_seconds=aed_slack_seconds)
    rows: list[ResponderAssignment] = []
    for i in roles.direct:
        r = int(eligible[i])
        rows.append(ResponderAssignment(r, "direct", float(t_r[r]), float(t_r[r]) * speed_mps,
                                        float(t_r[r])))
    for i, j in zip(roles.fetch_responder, roles.fetch_aed, strict=True):
        r, a = int(eligible[i]), int(usable[j])
        eta = float(fetch[i, j])
        rows.append(ResponderAssignment(r, "fetch_aed", eta, eta * speed_mps, float(t_r[r]),
                                        a, eta - float(t_a[a])))
    rows.sort(key=lambda row: (row.eta_seconds, row.responder))
    reachable = tuple(ReachableAed(int(a), float(t_a[a]), float(t_a[a]) * speed_mps)
                      for a in usable)
    return DispatchPlan(tuple(rows), reachable, roles.first_responder_seconds,
                        roles.first_aed_seconds, int(eligible.shape[0]))


def _fetch_times(network: WalkingNetwork, responders: NetworkPoints, aeds: NetworkPoints,
                 eligible: np.ndarray, usable: np.ndarray, walk_r: np.ndarray,
                 walk_a: np.ndarray, t_a: np.ndarray, budget: float, speed_mps: float,
                 out: np.ndarray) -> None:
    """Fill out[i, j] = arrival with AED usable[j] fetched by responder eligible[i].

    walk(r, a) >= |walk(r, p) - walk(a, p)| (triangle inequality), so an AED whose
    best lower bound already exceeds the budget needs no search; the others get one
    search bounded by what is left of the budget.
    """
    r_extra = responders.extra_seconds[eligible]
    r_walk = walk_r[eligible]
    min_extra = float(r_extra.min())
    # What is left of the budget for extra_r + walk(r, a), per AED.
    left = budget - t_a[usable] - aeds.extra_seconds[usable]
    lower = r_extra[:, None] + np.abs(r_walk[:, None] - walk_a[usable][None, :])
    searched = (left >= 0) & (lower <= left[None, :] + _EPS_S).any(axis=0)
    walk = times_from_sources(
        network, aeds.edge_ids[usable], aeds.offsets_m[usable],
        np.where(searched, np.maximum(left - min_extra, 0.0), -1.0),
        responders.edge_ids[eligible], responders.offsets_m[eligible], speed_mps=speed_mps)
    arrival = walk + r_extra[:, None] + (aeds.extra_seconds[usable] + t_a[usable])[None, :]
    arrival[arrival > budget] = np.inf
    out[:, :] = arrival


# ---------------------------------------------------------------------- baseline
def radius_policy(
    network: WalkingNetwork,
    incident: SnappedPoint,
    incident_lonlat: tuple[float, float],
    responders: PointsLike,
    responder_lonlat: tuple[np.ndarray, np.ndarray],
    aeds: PointsLike,
    aed_lonlat: tuple[np.ndarray, np.ndarray],
    *,
    speed_mps: float,
    budget_seconds: float,
    limit: int | None = None,
    fetch_aed: bool = True,
    max_fetchers: int = 2,
    evaluate_seconds: float | None = None,
    incident_extra_seconds: float = 0.0,
) -> DispatchPlan:
    """Straight-line radius alerting (what most responder apps do), evaluated by walking.

    Alerts the responders within R = speed x budget metres of the incident by straight
    line, nearest first (at most `limit`); for a cardiac arrest the nearest goes
    direct and the next ones (at most `max_fetchers`) each fetch the AED nearest to
    them by straight line among the AEDs within R of the incident not yet taken. The
    returned times are the *actual* walking times (inf beyond `evaluate_seconds`,
    default 4 x the budget), so they may exceed the budget the radius promised.

    Parameters
    ----------
    network, incident
        Walking network and snapped incident, used only to evaluate the choice.
    incident_lonlat, responder_lonlat, aed_lonlat
        WGS-84 positions used for the straight-line choice.
    responders, aeds
        The same points on the network (for the walking evaluation).
    speed_mps, budget_seconds, limit, fetch_aed, max_fetchers, incident_extra_seconds
        As in `rank_for_incident`.
    evaluate_seconds
        Horizon of the evaluating searches.

    Returns
    -------
    DispatchPlan
        `aeds` lists the AEDs within R by straight line, nearest first, with walking
        times; `reachable_responders` counts the responders within R.
    """
    responders, aeds = _as_points(responders), _as_points(aeds)
    radius_m = speed_mps * budget_seconds
    horizon = 4.0 * budget_seconds if evaluate_seconds is None else float(evaluate_seconds)
    lon, lat = incident_lonlat
    d_r = haversine_m(lon, lat, *responder_lonlat).reshape(-1)
    d_a = haversine_m(lon, lat, *aed_lonlat).reshape(-1)
    in_r = np.flatnonzero(d_r <= radius_m)
    in_r = in_r[np.argsort(d_r[in_r], kind="stable")]
    alerted = in_r if limit is None else in_r[:limit]
    aed_in = np.flatnonzero(d_a <= radius_m)
    aed_in = aed_in[np.argsort(d_a[aed_in], kind="stable")]

    search = bounded_search(network, incident,
                            budget_seconds=max(horizon - incident_extra_seconds, 0.0),
                            speed_mps=speed_mps)
    t_r = (times_to_points(search, responders.edge_ids, responders.offsets_m)
           + responders.extra_seconds + incident_extra_seconds)
    t_a = (times_to_points(search, aeds.edge_ids, aeds.offsets_m) + aeds.extra_seconds
           + incident_extra_seconds)
    t_r[t_r > horizon] = np.inf
    t_a[t_a > horizon] = np.inf
    rows: list[ResponderAssignment] = []
    taken = np.zeros(d_a.shape[0], bool)
    fetchers = 0
    r_lon, r_lat = (np.asarray(c, np.float64).reshape(-1) for c in responder_lonlat)
    a_lon, a_lat = (np.asarray(c, np.float64).reshape(-1) for c in aed_lonlat)
    for rank, r in enumerate(alerted):
        r = int(r)
        free = aed_in[~taken[aed_in]]
        if fetch_aed and rank > 0 and fetchers < max_fetchers and free.size:
            near = haversine_m(r_lon[r], r_lat[r], a_lon[free], a_lat[free])
            a = int(free[np.argmin(near)])
            taken[a] = True
            fetchers += 1
            to_aed = (_walk_between(network, aeds, a, responders, r, horizon, speed_mps)
                      + float(aeds.extra_seconds[a]))
            eta = to_aed + float(t_a[a])
            rows.append(ResponderAssignment(r, "fetch_aed", eta, eta * speed_mps,
                                            float(t_r[r]), a, to_aed))
        else:
            rows.append(ResponderAssignment(r, "direct", float(t_r[r]),
                                            float(t_r[r]) * speed_mps, float(t_r[r])))
    first = min((row.eta_seconds for row in rows), default=math.inf)
    first_aed = min((row.eta_seconds for row in rows if row.role == "fetch_aed"),
                    default=math.inf)
    listed = tuple(ReachableAed(int(a), float(t_a[a]), float(t_a[a]) * speed_mps)
                   for a in aed_in)
    return DispatchPlan(tuple(rows), listed, _none_if_inf(first), _none_if_inf(first_aed),
                        int(in_r.shape[0]))


def _walk_between(network: WalkingNetwork, aeds: NetworkPoints, a: int,
                  responders: NetworkPoints, r: int, horizon: float, speed_mps: float) -> float:
    """extra_r + walk(r, a) (inf beyond `horizon` or off the network)."""
    if aeds.edge_ids[a] < 0 or responders.edge_ids[r] < 0:
        return math.inf
    source = SnappedPoint(int(aeds.edge_ids[a]), float(aeds.offsets_m[a]), math.nan,
                          math.nan, 0.0)
    search = bounded_search(network, source, budget_seconds=horizon, speed_mps=speed_mps)
    walk = times_to_points(search, responders.edge_ids[r:r + 1], responders.offsets_m[r:r + 1])
    return float(walk[0]) + float(responders.extra_seconds[r])

