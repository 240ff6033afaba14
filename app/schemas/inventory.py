"""Reserve-centre inventory I/O."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.schemas.common import InputModel, Timestamps

ITEM = Field(min_length=1, max_length=100, description="What is stocked.",
             examples=["AED电极片(成人)"])


class InventoryLineCreate(InputModel):
    item: str = ITEM
    batch: str = Field("", max_length=64, description="Batch or lot, so that lines with "
                       "different expiry dates stay apart.", examples=["2026-08"])
    unit: str = Field("piece", min_length=1, max_length=20, description="Unit of `quantity`.",
                      examples=["pair"])
    quantity: int = Field(ge=0, le=1_000_000, description="How many are in stock.",
                          examples=[40])
    min_quantity: int = Field(0, ge=0, le=1_000_000, description="Alert when stock falls to "
                              "this or below.", examples=[10])
    expires_on: date | None = Field(None, description="Expiry of this batch.",
                                    examples=["2028-08-31"])


class InventoryLineUpdate(InputModel):
    unit: str | None = Field(None, min_length=1, max_length=20, description="Unit.",
                             examples=["box"])
    min_quantity: int | None = Field(None, ge=0, le=1_000_000, description="Alert threshold.",
                                     examples=[12])
    expires_on: date | None = Field(None, description="Expiry of this batch.",
                                    examples=["2028-09-30"])


class InventoryAdjust(InputModel):
    delta: int = Field(ge=-1_000_000, le=1_000_000, description="Change in stock: positive "
                       "for a delivery, negative for items handed out. Stock never goes "
                       "below zero (409).", examples=[-4])


class InventoryLineRead(Timestamps):
    id: int = Field(description="Line id.", examples=[5])
    equipment_id: int = Field(description="The reserve centre.", examples=[9])
    item: str = Field(description="What is stocked.", examples=["AED电极片(成人)"])
    batch: str = Field(description="Batch or lot.", examples=["2026-08"])
    unit: str = Field(description="Unit of `quantity`.", examples=["pair"])
    quantity: int = Field(description="How many are in stock.", examples=[8])
    min_quantity: int = Field(description="Alert threshold.", examples=[10])
    expires_on: date | None = Field(description="Expiry of this batch.",
                                    examples=["2028-08-31"])
    alerts: list[str] = Field(description="Low stock or expiry alerts, if any.",
                              examples=[["low stock: 8 pair, minimum 10"]])
