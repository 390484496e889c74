"""/approval-recipients: a tenant's admins name who is mailed its approval requests; the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from talkative.approval_mail import service
from talkative.approval_mail.models import ApprovalEmailRecipient
from talkative.approval_mail.schemas import MailDeliveryPage, RecipientCreate, RecipientPage, RecipientRead
from talkative.auth.dependencies import ApprovalChannelAdmin
from talkative.db import Session
from talkative.deps import Limit
from talkative.errors import ERROR_RESPONSES

router = APIRouter(prefix="/approval-recipients", tags=["approvals"], responses=ERROR_RESPONSES)
RecipientId = Annotated[str, Path(min_length=1, max_length=64)]


async def _owned(
    recipient_id: RecipientId, session: Session, principal: ApprovalChannelAdmin
) -> ApprovalEmailRecipient:
    return await service.get(session, tenant_id=principal.tenant_filter, recipient_id=recipient_id)


OwnedRecipient = Annotated[ApprovalEmailRecipient, Depends(_owned)]


@router.post("", status_code=201, operation_id="createApprovalRecipient")
async def create_recipient(
    body: RecipientCreate, session: Session, principal: ApprovalChannelAdmin
) -> RecipientRead:
    """Mails this address the tenant's approval requests (stored from now on) that `subject` or
    `role` may decide, each with a one-click link acting as them on that approval only."""
    recipient = await service.create(
        session, tenant_id=principal.owning_tenant(None), created_by=principal.sub, body=body
    )
    return service.to_read(recipient)


@router.get("", operation_id="listApprovalRecipients")
async def list_recipients(session: Session, principal: ApprovalChannelAdmin) -> RecipientPage:
    recipients = await service.list_for(session, tenant_id=principal.tenant_filter)
    return RecipientPage(recipients=[service.to_read(r) for r in recipients])


@router.delete("/{recipient_id}", status_code=204, operation_id="deleteApprovalRecipient")
async def delete_recipient(recipient: OwnedRecipient, session: Session) -> Response:
    await service.remove(session, recipient=recipient)
    return Response(status_code=204)


@router.get("/{recipient_id}/deliveries", operation_id="listApprovalMailDeliveries")
async def list_deliveries(
    recipient: OwnedRecipient, session: Session, limit: Limit = 100
) -> MailDeliveryPage:
    """The mails to this recipient, newest first: pending, delivered, failed (given up) or skipped."""
    rows = await service.deliveries(session, recipient=recipient, limit=limit)
    return MailDeliveryPage(deliveries=[service.to_delivery_read(r) for r in rows])
