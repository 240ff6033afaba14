"""Webhooks for console integrations (admins)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy import select

from app.deps import Admin, DbSession, SettingsDep
from app.errors import NotFound, problem_responses
from app.models import Webhook
from app.schemas.common import InputModel, OutputModel
from app.services import webhooks as service
from app.services.scope import get_scoped, region_filter

router = APIRouter(prefix="/v1/webhooks", tags=["push"])


class WebhookCreate(InputModel):
    url: str = Field(min_length=8, max_length=500, description="Where to POST the timeline "
                     "events of incidents in your area (host must be allow-listed).",
                     examples=["https://cad.example.gov.cn/rescue-circle/events"])


class WebhookRead(OutputModel):
    id: int = Field(description="Webhook id.", examples=[3])
    url: str = Field(description="Target URL.",
                     examples=["https://cad.example.gov.cn/rescue-circle/events"])
    region_id: int = Field(description="Area whose incidents are sent.", examples=[4])
    active: bool = Field(description="Deliveries enabled.", examples=[True])
    last_event_id: int = Field(description="Events up to this id were delivered.",
                               examples=[1024])
    failures: int = Field(description="Consecutive failed deliveries.", examples=[0])
    last_error: str | None = Field(description="Last delivery error.", examples=[None])


class WebhookCreated(WebhookRead):
    secret: str = Field(description="HMAC-SHA256 key for `Rescue-Signature` (shown once).",
                        examples=["9f2c..."])


@router.post("", operation_id="create_webhook", response_model=WebhookCreated,
             status_code=status.HTTP_201_CREATED, responses=problem_responses())
def create_webhook(data: WebhookCreate, session: DbSession, principal: Admin,
                   settings: SettingsDep) -> WebhookCreated:
    """Events are POSTed as JSON with `Rescue-Delivery`, `Rescue-Timestamp` and
    `Rescue-Signature: v1=<hex HMAC-SHA256 of "{delivery}.{timestamp}.{body}">`."""
    webhook = service.register(session, settings, principal, url=data.url)
    return WebhookCreated.model_validate(webhook)


@router.get("", operation_id="list_webhooks", response_model=list[WebhookRead],
            responses=problem_responses())
def list_webhooks(session: DbSession, principal: Admin) -> list[WebhookRead]:
    rows = session.scalars(select(Webhook).where(region_filter(Webhook.region_id, principal))
                           .order_by(Webhook.id))
    return [WebhookRead.model_validate(w) for w in rows]


@router.delete("/{webhook_id}", operation_id="delete_webhook",
               status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(NotFound))
def delete_webhook(webhook_id: int, session: DbSession, principal: Admin) -> None:
    session.delete(get_scoped(session, Webhook, webhook_id, principal, entity="webhook",
                              field="webhook_id"))
    session.flush()
