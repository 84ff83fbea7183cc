"""What keeps the roster in step with the school's own systems: tokens, external identities, groups, uploads.

- ``ProvisioningToken``: a bearer token an identity provider (Entra ID, Google Workspace, Okta, a
  MIS connector) uses for ``/scim/v2/``. Only the SHA-256 of its secret is stored; the secret is
  shown once. A token acts for one organisation and everything below it.
- ``ExternalIdentity``: a person as an outside system knows them in one organisation (the token's,
  or the organisation whose roster is synchronised): the SCIM resource id, ``userName``,
  ``externalId`` (a MIS id in a CSV's "external id" column) and the provider's view of the account.
- ``ScimGroup``: a group the provider manages, standing for one role kind in one organisation:
  adding a member starts that role, removing them ends it.
- ``RosterUpload``: a roster file between its preview and its application (applied once).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from conduct.models import Organisation, Person, RoleKind

EXTERNAL_ID_MAX_LENGTH = 200  # MIS ids are short (Arbor, SIMS: digits or a GUID); Entra's objectId is a GUID


class ProvisioningToken(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="provisioning_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “Entra ID provisioning”.")
    prefix = models.CharField(max_length=12, help_text="The first characters of the secret, to recognise it by.")
    secret_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret (hex).")
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True) | Q(revoked_at__isnull=False),
                name="provisioningtoken_revoker_only_when_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) for {self.organisation}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ExternalIdentity(models.Model):
    """A person as one organisation's outside system knows them (one per person per organisation)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="The SCIM resource id.")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="external_identities")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="external_identities")
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH, blank=True)
    user_name = models.CharField(max_length=254, blank=True, help_text="SCIM userName (often the UPN).")
    attributes = models.JSONField(
        default=dict,
        blank=True,
        help_text="The SCIM User as the provider last set it (name, emails…), for reading back.",
    )
    active = models.BooleanField(default=True, help_text="SCIM active: false once the provider says they left.")
    deprovisioned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the provider deleted the user (the account is deactivated, evidence kept).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation", "pk"]
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "person"], name="externalidentity_one_per_person"),
            models.UniqueConstraint(
                fields=["organisation", "external_id"],
                condition=~Q(external_id=""),
                name="externalidentity_external_id_unique",
            ),
            models.UniqueConstraint(
                "organisation",
                Lower("user_name"),
                condition=~Q(user_name=""),
                name="externalidentity_user_name_unique_ci",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.organisation_id}: {self.external_id or self.user_name}"


class ScimGroup(models.Model):
    """A provider's group standing for one role kind in one organisation (within the token's reach).

    Its members are the token's users who hold that role; two groups may stand for the same role.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="The SCIM resource id.")
    scope = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="scim_groups", help_text="The token's organisation."
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="scim_groups_for")
    kind = models.CharField(max_length=30, choices=RoleKind.choices)
    display_name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=EXTERNAL_ID_MAX_LENGTH, blank=True)
    shows_role = models.BooleanField(
        default=True, help_text="The provider set the role-group extension (else the role came from the name)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scope", "display_name"]
        constraints = [
            models.UniqueConstraint(
                "scope", Lower("display_name"), condition=Q(deleted_at__isnull=True), name="scimgroup_name_unique_ci"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class RosterUpload(models.Model):
    """A roster file as uploaded: previewed, then applied once (a conditional update claims it)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="roster_uploads")
    uploaded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    whole_roster = models.BooleanField(default=False, help_text="People absent from the file are leavers.")
    leavers_on = models.DateField(help_text="The last day of those who left (and of roles that end).")
    uploaded_at = models.DateTimeField(default=timezone.now)
    apply_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the admin asked for it to be applied (in the background)."
    )
    apply_requested_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    apply_error = models.TextField(blank=True, help_text="Why applying it failed (nothing was saved).")
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="What applying it did (counts).")

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"Roster for {self.organisation} uploaded {self.uploaded_at:%Y-%m-%d %H:%M}"
