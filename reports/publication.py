"""Publishing an organisation's register of interests (the public governance page): the on/off switch."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from conduct.audit import audit_log_record
from conduct.models import AuditAction, Organisation, Person
from conduct.permissions import Action, can

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublicationChange:
    organisation: Organisation
    published: bool
    changed: bool


@transaction.atomic
def register_publication_set(*, organisation: Organisation, publish: bool, by: Person) -> PublicationChange:
    """Switch the public register on or off (only admins with PUBLISH_REGISTER may)."""
    if not can(by, Action.PUBLISH_REGISTER, organisation):
        raise PermissionDenied("Only an admin of this organisation can publish its register.")
    changed = (
        Organisation.objects.filter(pk=organisation.pk)
        .exclude(publish_register=publish)
        .update(publish_register=publish)
    )
    organisation.publish_register = publish
    if changed:
        audit_log_record(
            actor=by,
            action=AuditAction.REGISTER_PUBLISHED if publish else AuditAction.REGISTER_UNPUBLISHED,
            organisation=organisation,
            target=organisation,
            summary=f"{'Published' if publish else 'Took down'} the register of interests of {organisation.name}.",
            details={"before": {"publish_register": not publish}, "after": {"publish_register": publish}},
        )
    logger.info("Register of %s %s by %s", organisation.slug, "published" if publish else "unpublished", by.email)
    return PublicationChange(organisation, publish, bool(changed))
