"""/approval-recipients: whoever may decide a tenant's approvals enrols an address to be mailed the
ones they may decide; the tenant's admins see and remove any of them; the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from talkative.approval_mail import service
from talkative.approval_mail.models import ApprovalEmailRecipient
from talkative.approval_mail.schemas import MailDeliveryPage, RecipientCreate, RecipientPage, RecipientRead
from talkative.auth.dependencies import Approver
from talkative.auth.policy import Permission, allows
from talkative.auth.principal import Principal
from talkative.db import Session
from talkative.deps import Limit
from talkative.errors import ERROR_RESPONSES, Forbidden

router = APIRouter(prefix="/approval-recipients", tags=["approvals"], responses=ERROR_RESPONSES)
RecipientId = Annotated[str, Path(min_length=1, max_length=64)]


def _only_subject(principal: Principal) -> str | None:
    """Whose recipients the caller reaches: an admin (`manage_approval_channels`) every one of the
    tenant's (None), anyone else only their own."""
    return None if allows(principal.role, Permission.MANAGE_APPROVAL_CHANNELS) else principal.sub


async def _owned(recipient_id: RecipientId, session: Session, principal: Approver) -> ApprovalEmailRecipient:
    return await service.get(
        session,
        tenant_id=principal.tenant_filter,
        subject=_only_subject(principal),
        recipient_id=recipient_id,
    )


OwnedRecipient = Annotated[ApprovalEmailRecipient, Depends(_owned)]


@router.post("", status_code=201, operation_id="createApprovalRecipient")
async def create_recipient(body: RecipientCreate, session: Session, principal: Approver) -> RecipientRead:
    """Enrols the caller: mails this address the tenant's approval requests (stored from now on)
    that the caller's subject or role may decide, each with a one-click link acting as the caller
    (the token's subject and role) on that approval only. Nobody enrols someone else."""
    if principal.tenant_id is None:
        raise Forbidden(
            "a platform admin's token has no tenant, so it decides no tenant's approvals by email; "
            "enrol with a token of the tenant",
            code="TENANT_REQUIRED",
        )
    recipient = await service.create(
        session,
        tenant_id=principal.tenant_id,
        subject=principal.sub,
        role=principal.role.value,
        body=body,
    )
    return service.to_read(recipient)


@router.get("", operation_id="listApprovalRecipients")
async def list_recipients(session: Session, principal: Approver) -> RecipientPage:
    """An admin's: all of the tenant's recipients; anyone else's: their own."""
    recipients = await service.list_for(
        session, tenant_id=principal.tenant_filter, subject=_only_subject(principal)
    )
    return RecipientPage(recipients=[service.to_read(r) for r in recipients])


@router.delete("/{recipient_id}", status_code=204, operation_id="deleteApprovalRecipient")
async def delete_recipient(recipient: OwnedRecipient, session: Session) -> Response:
    """An admin removes any of the tenant's recipients; anyone else only their own (404 otherwise)."""
    await service.remove(session, recipient=recipient)
    return Response(status_code=204)


@router.get("/{recipient_id}/deliveries", operation_id="listApprovalMailDeliveries")
async def list_deliveries(
    recipient: OwnedRecipient, session: Session, limit: Limit = 100
) -> MailDeliveryPage:
    """The mails to this recipient, newest first: pending, delivered, failed (given up) or skipped
    (an admin: any of the tenant's recipients; anyone else: their own)."""
    rows = await service.deliveries(session, recipient=recipient, limit=limit)
    return MailDeliveryPage(deliveries=[service.to_delivery_read(r) for r in rows])
