"""Equipment I/O. The cabinet PIN never appears in a Read schema; owner phones are masked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.models.equipment import Access, EquipmentKind, EquipmentSource, EquipmentStatus
from app.schemas.common import InputModel, OutputModel, PointIn, PointOut, Timestamps
from app.services.readiness import Readiness, opening_hours_error

OPENING_HOURS_DOC = ("Opening hours in OpenStreetMap `opening_hours` syntax; `24/7` when "
                     "always reachable.")


def _valid_opening_hours(value: str) -> str:
    if error := opening_hours_error(value):
        raise ValueError(error)
    return value


OpeningHoursText = Annotated[str, AfterValidator(_valid_opening_hours)]


class EquipmentCreate(InputModel):
    kind: EquipmentKind = Field(description="aed, first_aid_kit, reserve_centre or "
                                "equipment_point.", examples=["aed"])
    name: str = Field(min_length=1, max_length=200, description="Name shown to the public.",
                      examples=["小白楼地铁站B口AED"])
    location: PointIn = Field(description="Where it stands.")
    region_code: str = Field(description="Code of the owning region.", examples=["120101001"])
    address: str = Field("", max_length=500, description="Street address.",
                         examples=["和平区南京路与曲阜道交口"])
    floor_note: str = Field("", max_length=200, description="Floor / indoor directions.",
                            examples=["B1层 安检口左侧墙上"])
    indoor: bool = Field(False, description="Inside a building.", examples=[True])
    access: Access = Field(Access.public, description="public or restricted.",
                           examples=["public"])
    opening_hours: OpeningHoursText = Field("24/7", max_length=500, description=OPENING_HOURS_DOC,
                               examples=["Mo-Su 06:00-23:00"])
    cabinet_pin: str | None = Field(None, max_length=32, description="Cabinet PIN, shared "
                                    "only with a responder who accepted to fetch it.",
                                    examples=["4921"])
    owner_name: str = Field("", max_length=200, description="Owner or keeper.",
                            examples=["天津地铁运营公司"])
    owner_phone: str = Field("", max_length=32, description="Owner contact (shown masked).",
                             examples=["02223456789"])
    status: EquipmentStatus = Field(EquipmentStatus.available, description="available, "
                                    "needs_service, out_of_service or in_use.",
                                    examples=["available"])
    pads_expire_on: date | None = Field(None, description="Pads expiry date.",
                                        examples=["2027-06-30"])
    battery_expires_on: date | None = Field(None, description="Battery expiry date.",
                                            examples=["2029-01-31"])
    last_verified_on: date | None = Field(None, description="Last on-site check.",
                                          examples=["2026-11-01"])
    device_id: str | None = Field(None, max_length=128, description="IoT device id of a "
                                  "smart cabinet or kit.", examples=["cab-0042"])
    notes: str = Field("", max_length=2000, description="Free notes.", examples=[""])



class EquipmentUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200, description="Name.",
                             examples=["小白楼地铁站B口AED"])
    location: PointIn | None = Field(None, description="New position.")
    region_code: str | None = Field(None, description="New owning region.",
                                    examples=["120101001"])
    address: str | None = Field(None, max_length=500, description="Address.", examples=[""])
    floor_note: str | None = Field(None, max_length=200, description="Floor note.",
                                   examples=["1F"])
    indoor: bool | None = Field(None, description="Inside a building.", examples=[False])
    access: Access | None = Field(None, description="public or restricted.",
                                  examples=["restricted"])
    opening_hours: OpeningHoursText | None = Field(None, max_length=500,
                                                   description=OPENING_HOURS_DOC,
                                                   examples=["24/7"])
    cabinet_pin: str | None = Field(None, max_length=32, description="Cabinet PIN.",
                                    examples=["4921"])
    owner_name: str | None = Field(None, max_length=200, description="Owner.", examples=[""])
    owner_phone: str | None = Field(None, max_length=32, description="Owner contact.",
                                    examples=[""])
    status: EquipmentStatus | None = Field(None, description="Status.",
                                           examples=["needs_service"])
    pads_expire_on: date | None = Field(None, description="Pads expiry.",
                                        examples=["2027-06-30"])
    battery_expires_on: date | None = Field(None, description="Battery expiry.",
                                            examples=["2029-01-31"])
    last_verified_on: date | None = Field(None, description="Last on-site check.",
                                          examples=["2026-11-20"])
    device_id: str | None = Field(None, max_length=128, description="IoT device id.",
                                  examples=["cab-0042"])
    notes: str | None = Field(None, max_length=2000, description="Notes.", examples=[""])



class ReadinessRead(OutputModel):
    state: Readiness = Field(description="usable, unverified or not_usable.",
                             examples=["usable"])
    reasons: list[str] = Field(description="Why it is in this state.",
                               examples=[["verified, in date and open now"]])
    actions: list[str] = Field(description="What the owner should do (the maintenance list); "
                               "empty when nothing is to be done.",
                               examples=[["replace the pads"]])
    evaluated_at: datetime = Field(description="Moment the readiness was evaluated, UTC.",
                                   examples=["2026-11-23T08:00:00Z"])


class EquipmentRead(Timestamps):
    id: int = Field(description="Equipment id.", examples=[7])
    kind: EquipmentKind = Field(description="Kind.", examples=["aed"])
    name: str = Field(description="Name.", examples=["小白楼地铁站B口AED"])
    location: PointOut = Field(description="Position in the requested `crs`.")
    region_id: int = Field(description="Owning region id.", examples=[17])
    address: str = Field(description="Address.", examples=["和平区南京路与曲阜道交口"])
    floor_note: str = Field(description="Floor / indoor directions.", examples=["B1层"])
    indoor: bool = Field(description="Inside a building.", examples=[True])
    access: Access = Field(description="public or restricted.", examples=["public"])
    opening_hours: str = Field(description=OPENING_HOURS_DOC, examples=["24/7"])
    has_cabinet_pin: bool = Field(description="A PIN exists (given only to an accepted "
                                  "fetcher).", examples=[True])
    owner_name: str = Field(description="Owner.", examples=["天津地铁运营公司"])
    owner_phone_masked: str = Field(description="Owner contact, masked.",
                                    examples=["022****6789"])
    status: EquipmentStatus = Field(description="Status.", examples=["available"])
    pads_expire_on: date | None = Field(description="Pads expiry.", examples=["2027-06-30"])
    battery_expires_on: date | None = Field(description="Battery expiry.",
                                            examples=["2029-01-31"])
    last_verified_on: date | None = Field(description="Last check.", examples=["2026-11-01"])
    device_id: str | None = Field(description="IoT device id.", examples=["cab-0042"])
    source: EquipmentSource = Field(description="manual, bulk_import or osm.",
                                    examples=["manual"])
    osm_id: int | None = Field(description="OpenStreetMap node id when imported from OSM.",
                               examples=[None])
    notes: str = Field(description="Notes.", examples=[""])
    readiness: ReadinessRead = Field(description="Derived readiness with reasons.")
    expiry_reminders: list[str] = Field(description="Expiries within two months, for the "
                                        "owner.", examples=[["pads expire on 2026-12-31"]])
