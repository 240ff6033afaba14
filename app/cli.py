"""``rescue-circle``: the operators' command line (migrations, bootstrap, tokens, imports)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from app.db import make_engine, make_sessionmaker, transaction
from app.errors import ProblemError
from app.models import Region, Volunteer
from app.security import ConsoleRole, Principal, Role, issue_token
from app.settings import Settings

OPERATOR = Principal(role=Role.city_admin, subject="cli", region_id=None, region_path="/")


def _sessionmaker(settings: Settings):
    engine = make_engine(settings.database_url, spatialite_library=settings.spatialite_library)
    return make_sessionmaker(engine)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from app.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    print(f"database at head: {settings.database_url}")
    return 0


def cmd_create_city(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.regions import create_city

    with transaction(_sessionmaker(settings)) as session:
        city = create_city(session, code=args.code, name=args.name, timezone=args.timezone)
        print(f"created city {city.code} (id {city.id})")
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.auth import create_console_user

    password = args.password or os.environ.get("RESCUE_NEW_USER_PASSWORD") or \
        getpass.getpass("password: ")
    if len(password) < 10:
        print("error: the password must have at least 10 characters", file=sys.stderr)
        return 2
    with transaction(_sessionmaker(settings)) as session:
        region = _region(session, args.region)
        user = create_console_user(session, username=args.username, password=password,
                                   role=ConsoleRole(args.role), region_id=region.id)
        print(f"created {user.role} {user.username} for region {region.code}")
    return 0


def _region(session, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise ProblemError(f"region {code} does not exist", field="region")
    return region


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    role = Role(args.role)
    with transaction(_sessionmaker(settings), write=False) as session:
        region_id = None
        if role is Role.volunteer:
            if args.volunteer is None or session.get(Volunteer, args.volunteer) is None:
                print("error: --volunteer must name an existing volunteer", file=sys.stderr)
                return 2
        else:
            if args.region is None:
                print("error: --region is required for this role", file=sys.stderr)
                return 2
            region_id = _region(session, args.region).id
    print(issue_token(secret_key=settings.secret_key, role=role,
                      subject=f"cli:{args.role}:{args.region or args.volunteer}",
                      region_id=region_id, volunteer_id=args.volunteer, ttl_s=args.ttl))
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.bulk_import import ImportFormat, ImportKind, import_rows

    path = Path(args.file)
    fmt = ImportFormat(args.format or ("csv" if path.suffix.lower() == ".csv" else "geojson"))
    text = path.read_text(encoding="utf-8-sig")
    with transaction(_sessionmaker(settings)) as session:
        report = import_rows(session, ImportKind(args.kind), fmt, text, principal=OPERATOR,
                             partial=args.partial)
    print(f"imported {len(report.imported_ids)} of {report.total} rows")
    for error in report.rejected:
        print(f"  rejected {error['field']}: {error['message']}")
    return 0


def cmd_import_osm(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.osm_import import import_osm

    with transaction(_sessionmaker(settings)) as session:
        summary = import_osm(session, settings, Path(args.file), city_code=args.city,
                             name=args.name, timezone=args.timezone)
    print(summary.describe())
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from app.networks import NetworkRegistry
    from app.services.audit_report import write_audit

    at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if at.tzinfo is None:
        print("error: --at needs a time zone, e.g. 2026-11-23T03:00:00+08:00", file=sys.stderr)
        return 2
    with transaction(_sessionmaker(settings), write=False) as session:
        region = _region(session, args.region)
        files = write_audit(session, NetworkRegistry(settings.data_dir), region,
                            Path(args.out), minutes=args.minutes, at=at,
                            include_unverified=args.include_unverified,
                            placements=args.placements)
    for path in (files.report, files.coverage_csv, files.gaps, files.placements):
        print(f"wrote {path}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo import load_demo
    from app.networks import NetworkRegistry

    with transaction(_sessionmaker(settings)) as session:
        summary = load_demo(session, NetworkRegistry(settings.data_dir), args.city)
    print(summary.describe())
    return 0


def cmd_openapi(settings: Settings, args: argparse.Namespace) -> int:
    from app.openapi import write_openapi

    path = write_openapi(Path(args.out))
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rescue-circle", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="upgrade the configured database to the newest migration"
                   ).set_defaults(func=cmd_migrate)

    city = sub.add_parser("create-city", help="bootstrap a city region")
    city.add_argument("code")
    city.add_argument("name")
    city.add_argument("--timezone", default="Asia/Shanghai")
    city.set_defaults(func=cmd_create_city)

    user = sub.add_parser("create-user", help="create a console user (password sign-in)")
    user.add_argument("username")
    user.add_argument("--role", required=True, choices=[r.value for r in ConsoleRole])
    user.add_argument("--region", required=True, help="code of the user's scope region")
    user.add_argument("--password", help="default: $RESCUE_NEW_USER_PASSWORD or a prompt")
    user.set_defaults(func=cmd_create_user)

    token = sub.add_parser("token", help="mint a bearer token for operators and tests")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--region", help="code of the scope region (all roles but volunteer)")
    token.add_argument("--volunteer", type=int, help="volunteer id (role volunteer)")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    imp = sub.add_parser("import", help="bulk-import volunteers or equipment (CSV/GeoJSON)")
    imp.add_argument("kind", choices=["volunteers", "equipment"])
    imp.add_argument("file")
    imp.add_argument("--format", choices=["csv", "geojson"])
    imp.add_argument("--partial", action="store_true", help="import the good rows anyway")
    imp.set_defaults(func=cmd_import)

    osm = sub.add_parser("import-osm", help="import a city's walking network, AEDs and "
                         "buildings from an OpenStreetMap extract (.osm.pbf or .osm)")
    osm.add_argument("file")
    osm.add_argument("--city", required=True, help="city region code (created if missing)")
    osm.add_argument("--name", help="name of the city when it is created")
    osm.add_argument("--timezone", default="Asia/Shanghai",
                     help="IANA time zone of a new city (for opening hours)")
    osm.set_defaults(func=cmd_import_osm)

    aud = sub.add_parser("audit", help="coverage audit of a region: report.html, "
                         "coverage.csv, gaps.geojson, placements.geojson")
    aud.add_argument("--region", required=True, help="region code")
    aud.add_argument("--minutes", type=float, default=4.0)
    aud.add_argument("--at", help="ISO time with zone (default now): opening hours matter")
    aud.add_argument("--include-unverified", action="store_true",
                     help="also report unverified AEDs (e.g. from OpenStreetMap)")
    aud.add_argument("--placements", type=int, default=5, help="new AEDs to propose")
    aud.add_argument("--out", required=True, help="output directory")
    aud.set_defaults(func=cmd_audit)

    demo = sub.add_parser("demo", help="place demo volunteers and AEDs on a city's imported "
                          "network (idempotent)")
    demo.add_argument("--city", required=True, help="code of a city with an imported network")
    demo.set_defaults(func=cmd_demo)

    api = sub.add_parser("openapi", help="write the OpenAPI contract")
    api.add_argument("--out", default="openapi/openapi.json")
    api.set_defaults(func=cmd_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return args.func(settings, args)
    except ProblemError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error['field']}: {error['message']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
