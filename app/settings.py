"""Service configuration: one class, read from ``RESCUE_*`` environment variables.

The settings object is built by the caller (``create_app(settings)``, the CLI) and passed
down; nothing reads the environment at import time.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.geo.walkable import DEFAULT_WALKABLE_RULES, WalkableRules
from app.live.state import LivePolicy

DEFAULT_SECRET_KEY = "change-me-development-only-secret-key"
DEFAULT_DATABASE_URL = "sqlite:///var/rescue-circle.sqlite3"


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    """Everything the service can be told from outside."""

    model_config = SettingsConfigDict(env_prefix="RESCUE_", extra="ignore")

    env: Environment = Field(
        Environment.development,
        description="development or production; production refuses unsafe defaults.",
    )
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path (SpatiaLite) or postgresql+psycopg://...",
    )
    secret_key: str = Field(DEFAULT_SECRET_KEY, description="HMAC key that signs bearer tokens.")
    token_ttl_s: int = Field(12 * 3600, gt=0, description="Lifetime of issued tokens.")
    spatialite_library: str = Field(
        "mod_spatialite", description="Name or path of the SpatiaLite loadable extension."
    )
    data_dir: Path = Field(Path("var"), description="Where networks and local state live.")

    wechat_api_base: str = Field(
        "https://api.weixin.qq.com", description="Base URL of WeChat's jscode2session API."
    )
    wechat_app_id: str = Field("", description="Mini-program app id.")
    wechat_app_secret: str = Field("", description="Mini-program app secret.")
    wechat_timeout_s: float = Field(5.0, gt=0, description="Timeout of calls to WeChat.")
    wechat_alert_template_id: str = Field("", description="Subscription-message template for "
                                          "alerts and stand-downs; empty: not sent.")

    login_max_failures: int = Field(
        5, ge=1, description="Failed password sign-ins before a user is throttled."
    )
    login_lockout_s: int = Field(
        300, ge=1, description="How long a throttled user must wait after too many failures."
    )
    expiry_reminder_days: int = Field(
        61, ge=1, description="Owners are reminded this many days before pads/battery expire."
    )
    max_page_size: int = Field(200, ge=1, description="Largest `limit` a list accepts.")
    walkable_highways: list[str] = Field(
        default_factory=lambda: sorted(DEFAULT_WALKABLE_RULES.highways),
        description="`highway=*` values a person may walk on (JSON list).")
    walkable_highways_needing_foot: list[str] = Field(
        default_factory=lambda: sorted(DEFAULT_WALKABLE_RULES.highways_needing_foot),
        description="`highway=*` values walkable only with foot=yes or a sidewalk.")
    worker_threads: int = Field(
        4, ge=1, le=200, description="Threads that run request handlers, and requests let "
        "into the app at once (the rest wait in line; one of them is kept for the calls of "
        "an emergency: creating an incident, ranking, a responder's answer). Walking "
        "searches are CPU-bound and share one interpreter lock: a few threads keep latency "
        "flat under load, where FastAPI's default of 40 makes them thrash.")
    target_responders_per_community: int = Field(
        15, ge=0, description="Qualified responders each community should have (Baoding).")
    target_trainers_per_community: int = Field(
        3, ge=0, description="Certified trainers each street/community should have (Tianjin).")
    target_pass_rate: float = Field(0.95, ge=0, le=1, description="Training pass-rate target.")
    target_excellent_rate: float = Field(0.30, ge=0, le=1,
                                         description="Training excellent-rate target.")
    assessment_pass_score: float = Field(
        80, ge=0, le=100, description="An assessment passes when each of its written, "
        "practical and simulation scores (0-100) reaches this.")
    assessment_excellent_score: float = Field(
        90, ge=0, le=100, description="A passed assessment is excellent when the mean of its "
        "three scores reaches this.")
    redis_url: str = Field("", description="Redis for live responder state shared by several "
                           "API workers (e.g. redis://127.0.0.1:6379/0); empty: in-process, "
                           "correct for a single worker only.")
    live_key_prefix: str = Field("rescue:live:", description="Redis key prefix of live state.")
    live_fresh_s: float = Field(120, gt=0, description="A location fix is live this long.")
    live_max_speed_mps: float = Field(50, gt=0, description="Faster movement between fixes "
                                      "is implausible.")
    live_max_accuracy_m: float = Field(200, gt=0, description="Vaguer fixes are not ranked.")
    live_max_clock_skew_s: float = Field(300, gt=0, description="Client clocks further off "
                                         "the server's are not trusted.")
    incident_kinds: dict[str, list[str]] = Field(
        default_factory=lambda: {"cardiac_arrest": ["cpr"], "trauma": ["trauma_bandaging"],
                                 "choking": ["choking_relief"], "other": []},
        description="Incident kinds and the skills a responder must hold a valid certificate "
                    "for (JSON object).")
    aed_fetch_kinds: list[str] = Field(
        default_factory=lambda: ["cardiac_arrest"],
        description="Kinds for which responders with a valid AED-use certificate fetch AEDs.")
    dispatch_alert_count: int = Field(7, ge=1, le=50, description="Responders alerted "
                                      "per incident at first (the best K).")
    alert_timeout_s: float = Field(60, gt=0, description="An alert unanswered this long is "
                                   "timed out and replaced by the next best responder.")
    escalation_budgets_s: list[float] = Field(
        default_factory=lambda: [480.0, 720.0],
        description="When too few responders can be alerted, widen the budget step by step "
                    "to these walking times (seconds) and mark the incident under-covered.")
    escalation_interval_s: float = Field(5, ge=0, description="How often open incidents are "
                                         "checked for timed-out alerts (0: never, e.g. tests).")
    service_credit_round_minutes: int = Field(15, ge=1, le=60, description="Incident service "
                                              "time is rounded up to this many minutes.")
    incident_min_credit_minutes: int = Field(30, ge=0, description="Least service credited "
                                             "to a responder who accepted an incident.")
    drill_credit_minutes: int = Field(30, ge=0, description="Service credited for taking "
                                      "part in a drill a trainer or dispatcher ran (a "
                                      "volunteer's own drill earns nothing).")
    telemetry_stale_h: float = Field(48, gt=0, description="Equipment with a device is not "
                                     "ready after this many hours without telemetry.")
    telemetry_max_clock_skew_s: float = Field(300, gt=0, description="Signed telemetry whose "
                                              "timestamp is further off is refused.")
    telemetry_max_per_minute: int = Field(12, ge=1, description="Messages a device may send "
                                          "per minute; more get 429.")
    device_min_battery_pct: int = Field(20, ge=0, le=100, description="A device battery below "
                                        "this is a fault.")
    device_max_displacement_m: float = Field(50, gt=0, description="A device reporting a "
                                             "position further than this from its registered "
                                             "place has been moved: a fault.")
    device_temperature_range_c: tuple[float, float] = Field(
        (0.0, 50.0), description="Storage temperature range of AEDs; outside it is a fault.")
    device_token_ttl_days: int = Field(365, ge=1, description="Lifetime of device tokens.")
    warning_kinds: list[str] = Field(
        default_factory=lambda: ["heat", "cold_wave", "rainstorm", "typhoon", "flood",
                                 "fire_risk", "air_quality", "epidemic", "other"],
        description="Kinds of risk warning admins may publish.")
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts webhooks may be sent to (JSON list); "
        "empty: no webhook can be registered.")
    webhook_timeout_s: float = Field(3.0, gt=0, le=30, description="Timeout of one delivery.")
    max_snap_m: float = Field(250.0, gt=0, le=5000, description="Farthest a point may lie "
                              "from a walkable edge to be placed on the network.")
    hazard_kinds: dict[Annotated[str, Field(min_length=1, max_length=32)],
                       Annotated[int, Field(gt=0, le=3650)]] = Field(
        default_factory=lambda: {"blocked_exit": 3, "ebike_charging_indoors": 3,
                                 "corridor_clutter": 7, "fire_equipment_missing": 7,
                                 "other": 14},
        description="Hazard kinds and the days each may stay unverified before it is overdue "
                    "(JSON object); a report's deadline is fixed when it is made.")
    patrol_max_credit_minutes: int = Field(240, ge=0, description="Most service minutes one "
                                           "patrol earns (its time is rounded up like "
                                           "incidents').")

    def live_policy(self) -> LivePolicy:
        return LivePolicy(fresh_s=self.live_fresh_s, max_speed_mps=self.live_max_speed_mps,
                          max_accuracy_m=self.live_max_accuracy_m,
                          max_clock_skew_s=self.live_max_clock_skew_s)

    def walkable_rules(self) -> WalkableRules:
        return replace(DEFAULT_WALKABLE_RULES, highways=frozenset(self.walkable_highways),
                       highways_needing_foot=frozenset(self.walkable_highways_needing_foot))

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        weak = self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32
        if self.env is Environment.production and weak:
            raise ValueError("RESCUE_SECRET_KEY must be set to a random value of at least 32 "
                             "characters in production")
        return self
