"""/webhooks: a tenant's admins subscribe URLs to event types; anyone in the tenant reads them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from talkative.auth.dependencies import Reader, WebhookAdmin
from talkative.auth.principal import Principal
from talkative.db import Session
from talkative.deps import Limit, RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.webhooks import service
from talkative.webhooks.models import WebhookSubscription
from talkative.webhooks.schemas import DeliveryPage, WebhookCreate, WebhookCreated, WebhookPage, WebhookRead

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
WebhookId = Annotated[str, Path(max_length=64)]


async def _readable(webhook_id: WebhookId, session: Session, principal: Reader) -> WebhookSubscription:
    return await service.get(session, tenant_id=principal.tenant_filter, webhook_id=webhook_id)


async def _writable(webhook_id: WebhookId, session: Session, principal: WebhookAdmin) -> WebhookSubscription:
    return await service.get(session, tenant_id=principal.tenant_filter, webhook_id=webhook_id)


ReadableWebhook = Annotated[WebhookSubscription, Depends(_readable)]
WritableWebhook = Annotated[WebhookSubscription, Depends(_writable)]


@router.post("", status_code=201, operation_id="createWebhook")
async def create_webhook(
    body: WebhookCreate, session: Session, principal: WebhookAdmin, runtime: RuntimeDep
) -> WebhookCreated:
    """The answer holds the signing secret: the only time it is shown. Events stored from now on
    are delivered; the tenant is the token's."""
    sub, secret = await service.create(
        session,
        tenant_id=_owner(principal),
        created_by=principal.sub,
        body=body,
        allow_private=runtime.settings.webhooks_allow_private,
        per_tenant=runtime.settings.webhooks_per_tenant,
    )
    return WebhookCreated(**service.to_read(sub).model_dump(), secret=secret)


@router.get("", operation_id="listWebhooks")
async def list_webhooks(session: Session, principal: Reader) -> WebhookPage:
    subs = await service.list_for(session, tenant_id=principal.tenant_filter)
    return WebhookPage(webhooks=[service.to_read(s) for s in subs])


@router.get("/{webhook_id}", operation_id="getWebhook")
async def get_webhook(webhook: ReadableWebhook) -> WebhookRead:
    return service.to_read(webhook)


@router.delete("/{webhook_id}", status_code=204, operation_id="deleteWebhook")
async def delete_webhook(webhook: WritableWebhook, session: Session) -> Response:
    await service.remove(session, sub=webhook)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", operation_id="listWebhookDeliveries")
async def list_deliveries(webhook: ReadableWebhook, session: Session, limit: Limit = 100) -> DeliveryPage:
    rows = await service.deliveries(session, sub=webhook, limit=limit)
    return DeliveryPage(deliveries=[service.to_delivery_read(r) for r in rows])


def _owner(principal: Principal) -> str:
    return principal.owning_tenant(None)
