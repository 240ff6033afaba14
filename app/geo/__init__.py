"""app.geo: the pure walking-network engine (no web framework, no database).

Everything "near" in Rescue Circle is walking time over an OpenStreetMap street
network, held as immutable numpy arrays and searched with compiled (numba) kernels.
Import from the submodules; this package imports nothing on purpose (so that
`app.geo.crs` stays light).

Build and persist a network (CLI / import job)::

    from app.geo.osm_import import read_osm
    extract = read_osm(path)                     # .osm.pbf or .osm XML, one pass
    extract.network.save("var/networks/tj.npz")  # atomic (temp file + os.replace)
    extract.aeds                                 # tuple[Aed]: osm id, lon/lat, opening_hours, ...
    extract.buildings                            # Buildings: arrays of centroid, area_m2, levels

Serve it (load once at start-up, share read-only between threads)::

    from app.geo.network import WalkingNetwork
    net = WalkingNetwork.load("var/networks/tj.npz", mmap=True)

Public API
----------
walkable
    ``WalkableRules`` (frozen dataclass, defaults = product rule),
    ``DEFAULT_WALKABLE_RULES``, ``is_walkable(tags, rules=DEFAULT_WALKABLE_RULES) -> bool``.
osm_import
    ``read_osm(path, *, rules=..., with_buildings=True) -> OsmExtract(network, aeds,
    buildings)``; ``compact_ways(refs, lon, lat, way_starts, *, way_ids, way_names,
    way_highways) -> WalkingNetwork``; ``parse_levels(value) -> int | None``.
network
    ``WalkingNetwork`` (arrays documented on the class) with
    ``WalkingNetwork.from_edges(node_lon, node_lat, edge_u, edge_v, *, geom_offsets,
    geom_lon, geom_lat, edge_names, edge_highways, ...)``, ``save(path)``,
    ``load(path, *, mmap=True)``, ``bbox``, ``convex_hull()``, ``node_count``,
    ``edge_count``, ``to_xy``/``to_lonlat``, ``edge_lonlat(edge_id)``,
    ``edge_name_of(edge_id)``; ``segment_length_m``/``haversine_m``.
snap
    ``snap_point(net, lon, lat, *, max_snap_m=250, main_component_only=True)
    -> SnappedPoint(edge_id, offset_m, lon, lat, distance_m)`` (raises
    ``TooFarFromNetwork``); ``snap_points(net, lon_array, lat_array, ...) ->
    SnappedPoints`` (``edge_id == -1`` / NaN where too far; ``.ok`` mask).
search
    ``bounded_search(net, source, *, budget_seconds, speed_mps) -> SearchResult``
    (``node_ids``, ``seconds``, ``dense_seconds()``);
    ``times_to_points(result, edge_ids, offsets_m) -> seconds`` (inf beyond budget);
    ``nearest_source_seconds(net, edge_ids, offsets_m, *, speed_mps,
    cutoff_seconds=None) -> NearestSource(seconds, source)`` per node.
route
    ``walking_route(net, source, target, *, speed_mps, max_seconds=None) -> Route``
    (``coordinates`` lon/lat, ``length_m``, ``seconds``, ``steps`` of ``RouteStep(name,
    length_m, seconds, turn)``, ``geojson()``); raises ``NoRoute``.
isochrone
    ``isochrones(result, budgets_seconds, *, buffer_m=30, resolution_m=None)
    -> list[shapely geometry]`` in lon/lat, one per budget.
coverage
    ``edge_coverage(net, source_edge_ids, source_offsets_m, *, speed_mps,
    budget_seconds, ...) -> EdgeCoverage`` (one multi-source search; exact covered
    length per edge), ``length_summary``/``coverage_summary`` (shares, exact p50/p90),
    ``point_times``, ``uncovered_stretches``, ``assign_to_polygons``.
placement
    ``place_sources(net, demand, *, count, speed_mps, budget_seconds, ...) ->
    Placement`` (lazy-greedy maximal covering), ``least_valuable_sources``.
dispatch
    ``rank_for_incident(net, incident, responders, aeds, *, speed_mps, budget_seconds,
    limit, fetch_aed, can_fetch, ...) -> DispatchPlan`` (who goes direct, who fetches
    which AED; exact for its stated objective); ``radius_policy`` (the baseline).
errors
    ``GeoError`` > ``TooFarFromNetwork(distance_m, max_snap_m)``, ``NoRoute``.
warmup
    ``warm_up()``: run every kernel once per process (start-up).

Typical dispatch ranking::

    incident = snap_point(net, lon, lat)                    # 4xx on TooFarFromNetwork
    plan = rank_for_incident(net, incident, responders, aeds, speed_mps=1.8,
                             budget_seconds=240, limit=7)   # one bounded search inside

Conventions: lon/lat are WGS-84 (convert GCJ-02/BD-09 with ``app.geo.crs`` first);
units are in the names (``_m``, ``seconds``, ``speed_mps``); flags are keyword-only;
speed and budget are always passed in (they are region settings, there are no
globals). Lengths are measured on the WGS-84 ellipsoid. The first call of each kernel
compiles it (numba, cached on disk under ``__pycache__``; set ``NUMBA_CACHE_DIR`` where
that is read-only); call ``warm_up()`` in the start-up. Networks built from OSM
are ODbL data: attribute "© OpenStreetMap contributors".
"""
