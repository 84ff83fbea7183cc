"""Organisations, people and their roles, codes, versions and adoption.

The organisation graph is a tree (trust → academies, trust board → local
governing boards, network → hubs) kept as a materialised path so "everything
under this trust" is one indexed prefix query, plus memberships of schools in
networks across trusts.

A code version's text is immutable once adopted. That rule is enforced three
times over: ``CodeVersion.save``/``Clause.save`` refuse, the query sets refuse
bulk ``update``/``delete``, and database triggers (migration 0002) refuse any
SQL that gets past both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower, Substr
from django.urls import reverse
from django.utils import timezone

from conduct.content import content_hash as compute_content_hash
from conduct.content import version_content
from conduct.section_names import section_names
from core.canonical import new_verification_code
from core.display import long_date
from core.models import AppendOnly, AppendOnlyQuerySet


class ImmutableVersionError(Exception):
    """Raised when something tries to change the text of an adopted version."""


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------


class OrganisationKind(models.TextChoices):
    NETWORK = "network", "Network or partnership"
    HUB = "hub", "Hub"
    TRUST = "trust", "Trust"
    SCHOOL = "school", "School or academy"
    BOARD = "board", "Board"
    COMMITTEE = "committee", "Committee"


# Organisations that meet, adopt codes and have chairs and clerks.
BOARD_KINDS = (OrganisationKind.BOARD, OrganisationKind.COMMITTEE)


def path_ids(path: str) -> list[int]:
    """The primary keys in a materialised path, from the root down: "/000001/000004/" → [1, 4]."""
    return [int(part) for part in path.strip("/").split("/") if part]


def root_path(path: str) -> str:
    """The path of the top of the tree holding the organisation at ``path`` (its trust or network): "/000001/"."""
    top = path.strip("/").split("/")[0]
    return f"/{top}/"


def root_id(path: str) -> int:
    """The primary key of the top of the tree holding the organisation at ``path``."""
    return path_ids(root_path(path))[0]


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=60, blank=True, help_text="Used where space is tight, e.g. ATT.")
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    governs = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="governing_boards",
        help_text="For a board: the trust or academy it governs.",
    )
    # Materialised path of primary keys, e.g. "/000001/000004/". Maintained by save().
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    publish_register = models.BooleanField(
        default=False,
        help_text="Publish the register of governors' business interests as a public web page.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_on = models.DateField(
        null=True,
        blank=True,
        help_text="From this day nobody owes anything new here; its records and evidence stay as they are.",
    )

    class Meta:
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="organisation_not_own_parent"),
            models.CheckConstraint(
                condition=Q(governs__isnull=True) | Q(kind__in=["board", "committee"]),
                name="organisation_only_boards_govern",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.pk is None:
            super().save(*args, **kwargs)  # the path is built from the primary key, so insert first
            self.path = self._computed_path()
            Organisation.objects.filter(pk=self.pk).update(path=self.path)
            return
        stored_path = Organisation.objects.filter(pk=self.pk).values_list("path", flat=True).first() or ""
        self.path = self._computed_path()
        if stored_path and stored_path != self.path:
            # A move: everything below keeps its tail under the new prefix, in one statement.
            Organisation.objects.filter(path__startswith=stored_path).update(
                path=Concat(Value(self.path), Substr("path", len(stored_path) + 1))
            )
        super().save(*args, **kwargs)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def ancestor_ids(self) -> list[int]:
        """Primary keys from the root down to this organisation, inclusive."""
        return path_ids(self.path)

    @property
    def root_path(self) -> str:
        """The path of the top of this organisation's tree: the trust or network everything here answers to."""
        return root_path(self.path)

    def clean(self) -> None:
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": "An organisation cannot be its own parent."})
        if self.parent is not None and self.pk and self.pk in path_ids(self.parent.path):
            raise ValidationError({"parent": "An organisation cannot sit below one of its own sub-organisations."})
        if self.governs_id and self.kind not in (OrganisationKind.BOARD, OrganisationKind.COMMITTEE):
            raise ValidationError({"governs": "Only boards and committees govern another organisation."})

    def _computed_path(self) -> str:
        prefix = self.parent.path if self.parent is not None else "/"
        return f"{prefix}{self.pk:06d}/"


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "Requested by the network, awaiting the school"
    ACCEPTED = "accepted", "Accepted by the school"


class NetworkMembershipQuerySet(models.QuerySet):
    def accepted(self) -> NetworkMembershipQuerySet:
        """Memberships the school accepted, current or past (a request still pending counts for nothing)."""
        return self.filter(status=MembershipStatus.ACCEPTED)

    def current(self, on: date | None = None) -> NetworkMembershipQuerySet:
        """Memberships that count on a day: accepted, begun on or before it and not yet ended."""
        on = on or timezone.localdate()
        return self.accepted().filter(joined_on__lte=on).filter(Q(left_on__isnull=True) | Q(left_on__gte=on))


class NetworkMembership(models.Model):
    """A school's membership of a network (or a hub in one), across trust boundaries.

    The network asks and the school accepts (``conduct.organisations``); only accepted
    memberships count. Rows recorded directly (the Django admin, demo data) are accepted.
    """

    network = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="member_links")
    school = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="network_links")
    status = models.CharField(max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.ACCEPTED)
    requested_at = models.DateTimeField(null=True, blank=True, help_text="When the network asked the school to join.")
    joined_on = models.DateField(null=True, blank=True, help_text="The day the school accepted; empty while pending.")
    left_on = models.DateField(null=True, blank=True)

    objects = NetworkMembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "school", "joined_on"], name="membership_unique_spell"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="membership_left_after_joined",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", joined_on__isnull=True, left_on__isnull=True)
                | Q(status="accepted", joined_on__isnull=False),
                name="membership_accepted_has_joined_on",
            ),
            models.UniqueConstraint(
                fields=["network", "school"], condition=Q(status="pending"), name="membership_one_pending_request"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} in {self.network}"


# ---------------------------------------------------------------------------
# People and roles
# ---------------------------------------------------------------------------


class PersonManager(BaseUserManager["Person"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> Person:
        if not email:
            raise ValueError("A person needs an email address.")
        person = self.model(email=self.normalize_email(email).lower(), **fields)
        person.set_password(password) if password else person.set_unusable_password()
        person.save(using=self._db)
        return person

    def create_user(self, email: str, password: str | None = None, **fields) -> Person:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> Person:
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email: str | None) -> Person:
        return self.get(email__iexact=email)


class Person(AbstractBaseUser, PermissionsMixin):
    """One account per person. Email is the login and is unique ignoring case."""

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=200, help_text="As it should appear on signed records.")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = PersonManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = "person"
        verbose_name_plural = "people"
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="person_email_unique_ci")]
        # The people directory's sorts: a page of 50 is read in index order, not by sorting everyone.
        indexes = [
            models.Index(fields=["full_name", "id"], name="person_by_name"),
            models.Index(fields=["last_login", "id"], name="person_by_last_login"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        self.full_name = " ".join(self.full_name.split())

    def save(self, *args, **kwargs) -> None:
        # Emails are stored lower-case so "unique" means unique ignoring case everywhere.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class RoleKind(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    AGENCY_WORKER = "agency_worker", "Agency worker"
    CONTRACTOR = "contractor", "Self-employed contractor"
    VOLUNTEER = "volunteer", "Volunteer"
    MEMBER = "member", "Member"
    TRUSTEE = "trustee", "Trustee"
    LOCAL_GOVERNOR = "local_governor", "Local governor"
    CHAIR = "chair", "Chair"
    CLERK = "clerk", "Clerk"
    ADMIN = "admin", "Admin"
    CENTRAL_TEAM = "central_team", "Central Team member"
    LEAD_REVIEWER = "lead_reviewer", "Lead Reviewer"
    REVIEWER = "reviewer", "Reviewer"
    FACILITATOR = "facilitator", "Facilitator"
    SENIOR_PARTNER = "senior_partner", "Senior Partner"
    HUB_MANAGER = "hub_manager", "Hub Manager"
    PROGRAMME_PARTICIPANT = "programme_participant", "Programme participant"
    NETWORK_PARTICIPANT = "network_participant", "Network participant"
    EVENT_ATTENDEE = "event_attendee", "Event attendee"
    WORKSHOP_PARTICIPANT = "workshop_participant", "Workshop participant"
    GUEST_SPEAKER = "guest_speaker", "Guest speaker"
    LEAD_PRACTITIONER = "lead_practitioner", "Lead Practitioner"
    ACTIVITY_STAFF = "activity_staff", "Staff from a partner school in an activity"


def role_label(kind: str) -> str:
    """A role kind in words ("Local governor"); a kind no longer offered is shown as stored, never an error."""
    return _ROLE_LABELS.get(kind, kind)


# Read once: ``kind in RoleKind.values`` builds the list of choices on every call (a third of a CSV export's time).
_ROLE_LABELS: dict[str, str] = {kind.value: str(kind.label) for kind in RoleKind}


def role_label_plural(kind: str) -> str:
    """The people holding a role kind, as a clause's or a form's audience names them ("Local governors")."""
    return role_label(kind) + "s"


def role_kind_from_text(value: str) -> str | None:
    """The role kind a person typed or a file names ("Local governor", "local_governors", "Employee"), else None.

    One reading for every route a role arrives by: the CSV import, the roster sync and SCIM groups.
    """
    wanted = " ".join(value.replace("_", " ").replace("-", " ").split()).lower()
    for kind, label in _ROLE_LABELS.items():
        if wanted in (kind.replace("_", " "), label.lower(), role_label_plural(kind).lower()):
            return kind
    return None


GOVERNANCE_ROLE_KINDS = frozenset({RoleKind.MEMBER, RoleKind.TRUSTEE, RoleKind.LOCAL_GOVERNOR, RoleKind.CHAIR})
OFFICER_ROLE_KINDS = frozenset({RoleKind.ADMIN, RoleKind.CHAIR, RoleKind.CLERK})


class GovernorCategory(models.TextChoices):
    APPOINTED = "appointed", "Appointed"
    ELECTED_PARENT = "parent", "Parent"
    ELECTED_STAFF = "staff", "Staff"
    CO_OPTED = "co_opted", "Co-opted"
    FOUNDATION = "foundation", "Foundation"
    EX_OFFICIO = "ex_officio", "Ex officio"
    MEMBER = "member", "Member"


class RoleQuerySet(models.QuerySet):
    def current(self, on: date | None = None) -> RoleQuerySet:
        """Roles held on a day: started on or before it and not yet ended."""
        on = on or timezone.localdate()
        return self.filter(starts_on__lte=on).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))

    def served_since(self, since: date) -> RoleQuerySet:
        """Roles held at any time from ``since`` until now (for the 12-month register)."""
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=since))


# What the directory's filters read of a role (its scope, kind and dates), included in the indexes it walks.
ROLE_WALK_COLUMNS = ["organisation", "kind", "starts_on", "ends_on"]


class Role(models.Model):
    """A person's role in an organisation for a period (a term of office for governors)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="roles")
    kind = models.CharField(max_length=30, choices=RoleKind.choices)
    title = models.CharField(max_length=120, blank=True, help_text="Job title or position, e.g. Teacher, Vice-chair.")
    starts_on = models.DateField(help_text="Start date; for governors the date of appointment.")
    ends_on = models.DateField(null=True, blank=True, help_text="End date; for governors the date stepped down.")
    # Governance details, published in the register of interests.
    category = models.CharField(max_length=20, choices=GovernorCategory.choices, blank=True)
    appointed_by = models.CharField(max_length=200, blank=True, help_text="The body that appointed them.")
    term_ends_on = models.DateField(null=True, blank=True, help_text="When the term of office ends.")
    end_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the role ended (left, term ended, moved), as the officer gave it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The person's sort columns, copied here by the database (migration 0013's triggers: on every insert or update
    # of a role, from the person's row; on every change to those columns of a person, to their roles), never by
    # Python: whatever the ORM writes into them is replaced (null only until the database fills them in). They let
    # the people directory find page N's first person by walking one covering index of the roles in reach
    # (``people.selectors.directory_walk``) instead of probing each person's roles in turn: on 50,000 people page
    # 200 by its number 5 ms against 22 ms. Nullable, even the texts: SQLite adds a nullable column without a default
    # in place, where any other would make Django rebuild the table (and lose the triggers on and about it).
    person_full_name = models.CharField(max_length=200, null=True, editable=False)  # noqa: DJ001
    person_email = models.CharField(max_length=254, null=True, editable=False)  # noqa: DJ001
    person_last_login = models.DateTimeField(null=True, editable=False)
    person_date_joined = models.DateTimeField(null=True, editable=False)

    objects = RoleQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__path", "kind", "starts_on"]
        indexes = [
            models.Index(fields=["organisation", "kind"]),
            models.Index(fields=["person", "kind"]),
            # The directory's walks, one a sort (``people.selectors.directory_walk``): in the sort's order, with what
            # a role's filters read included (PostgreSQL reads them from the index alone; SQLite ignores INCLUDE).
            models.Index(
                fields=["person_full_name", "person"],
                include=[*ROLE_WALK_COLUMNS, "person_email", "person_last_login"],
                name="role_walk_by_name",
            ),
            models.Index(fields=["person_email"], include=[*ROLE_WALK_COLUMNS, "person"], name="role_walk_by_email"),
            models.Index(
                fields=["person_last_login", "person"], include=ROLE_WALK_COLUMNS, name="role_walk_by_last_login"
            ),
            models.Index(
                fields=["person_date_joined", "person"], include=ROLE_WALK_COLUMNS, name="role_walk_by_joined"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation", "kind", "starts_on"], name="role_unique_spell"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="role_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(term_ends_on__isnull=True) | Q(term_ends_on__gte=F("starts_on")),
                name="role_term_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.full_name}: {self.get_kind_display()}, {self.organisation}"

    def clean(self) -> None:
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date cannot be before the start date."})
        if self.term_ends_on and self.starts_on and self.term_ends_on < self.starts_on:
            raise ValidationError({"term_ends_on": "The term cannot end before it starts."})


# ---------------------------------------------------------------------------
# Codes, versions, sections and clauses
# ---------------------------------------------------------------------------


def default_review_steps() -> list[int]:
    return [60, 30, 7]


def default_signing_steps() -> list[int]:
    return [7, 0]


class Code(models.Model):
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="codes")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.TextField(blank=True, help_text="One or two sentences saying who the code is for.")
    audience = models.JSONField(default=list, help_text="Role kinds that must sign this code.")
    signing_due_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after a version is adopted (or someone joins) by which it must be signed."
    )
    requires_declaration = models.BooleanField(
        default=False, help_text="Signers also declare interests, or that they have nothing to declare."
    )
    declaration_prompt = models.TextField(blank=True)
    offered_as_model = models.BooleanField(
        default=False,
        help_text="Other organisations may copy this code's adopted text as the starting point for their own.",
    )
    derived_from = models.ForeignKey(
        "CodeVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived_codes",
        help_text="The version of another organisation's code this one was copied from.",
    )
    # Reminder steps (days). Reviews: before the review date; signing: before the due date (0 = on the day).
    review_reminder_days = models.JSONField(default=default_review_steps, blank=True)  # empty: none before the date
    signing_reminder_days = models.JSONField(default=default_signing_steps, blank=True)
    overdue_repeat_days = models.PositiveSmallIntegerField(default=7)
    escalate_after_days = models.PositiveSmallIntegerField(default=14)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(signing_due_days__gte=1), name="code_due_days_positive"),
            models.CheckConstraint(condition=Q(overdue_repeat_days__gte=1), name="code_overdue_repeat_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("acknowledgements:code", args=[self.slug])

    def clean(self) -> None:
        valid = set(RoleKind.values)
        if not isinstance(self.audience, list) or not self.audience:
            raise ValidationError({"audience": "Choose at least one role that must sign this code."})
        unknown = [kind for kind in self.audience if kind not in valid]
        if unknown:
            raise ValidationError({"audience": f"Unknown role(s): {', '.join(map(str, unknown))}."})
        for field in ("review_reminder_days", "signing_reminder_days"):
            steps = getattr(self, field)
            if not isinstance(steps, list) or not all(isinstance(s, int) and 0 <= s <= 365 for s in steps):
                raise ValidationError({field: "Give whole numbers of days between 0 and 365."})

    def audience_labels(self) -> list[str]:
        return [role_label(kind) for kind in self.audience]


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ADOPTED = "adopted", "Adopted"
    SUPERSEDED = "superseded", "Superseded"


class CodeVersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if not kwargs.keys() <= CodeVersion.MUTABLE_AFTER_ADOPTION:
            locked = self.exclude(status=VersionStatus.DRAFT)
            if locked.exists():
                raise ImmutableVersionError("Adopted code versions cannot be changed.")
        returns_to_draft = kwargs.get("status") == VersionStatus.DRAFT
        if returns_to_draft and self.exclude(status=VersionStatus.DRAFT).exists():
            raise ImmutableVersionError("An adopted version cannot return to draft.")
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(status=VersionStatus.DRAFT).exists():
            raise ImmutableVersionError("Adopted code versions cannot be deleted.")
        return super().delete()

    def earlier_than(self, version: CodeVersion) -> CodeVersionQuerySet:
        """The same code's versions prepared before ``version`` (by creation, ties broken by primary key)."""
        return self.filter(code_id=version.code_id).filter(
            Q(created_at__lt=version.created_at) | Q(created_at=version.created_at, pk__lt=version.pk)
        )


class CodeVersion(models.Model):
    # Fields that may still change after adoption: the lifecycle, not the text.
    MUTABLE_AFTER_ADOPTION = frozenset({"status", "superseded_at"})

    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(max_length=40, help_text='For example "2025-2026".')
    status = models.CharField(max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_versions")
    effective_on = models.DateField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the canonical content.")
    revision = models.PositiveIntegerField(
        default=1, help_text="Bumped by every draft edit; detects conflicting edits."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who saved the latest change to the draft (named in conflict messages).",
    )
    adopted_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = CodeVersionQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-created_at"]
        get_latest_by = "created_at"
        constraints = [
            models.UniqueConstraint(fields=["code", "label"], name="version_label_unique_per_code"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(content_hash__regex=r"^[0-9a-f]{64}$"),
                name="version_locked_has_hash",
            ),
            models.CheckConstraint(
                condition=Q(review_due_on__isnull=True)
                | Q(effective_on__isnull=True)
                | Q(review_due_on__gte=F("effective_on")),
                name="version_review_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code.title} {self.label}"

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            stored = CodeVersion.objects.filter(pk=self.pk).values().first()
            if stored and stored["status"] != VersionStatus.DRAFT:
                changed = {name for name, value in stored.items() if name != "id" and getattr(self, name) != value}
                if self.status == VersionStatus.DRAFT or not changed <= self.MUTABLE_AFTER_ADOPTION:
                    raise ImmutableVersionError(
                        f"{self} is {stored['status']}; its text and details cannot change "
                        f"(attempted: {', '.join(sorted(changed - self.MUTABLE_AFTER_ADOPTION)) or 'status'})."
                    )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("acknowledgements:version", args=[self.code.slug, self.pk])

    def delete(self, *args, **kwargs):
        if self.is_locked:
            raise ImmutableVersionError("Adopted code versions cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        return self.status != VersionStatus.DRAFT

    # -- content ----------------------------------------------------------------

    def ordered_sections(self) -> list[Section]:
        """Sections with their clauses, in order, in two queries."""
        return list(
            self.sections.order_by("position").prefetch_related(
                models.Prefetch("clauses", queryset=Clause.objects.order_by("position"))
            )
        )

    def canonical_content(self) -> dict:
        attachments = self.attachments.order_by("position").only("title", "filename", "content_type", "size", "sha256")
        return version_content(self, self.ordered_sections(), attachments)

    def compute_hash(self) -> str:
        return compute_content_hash(self.canonical_content())

    def clause_count(self) -> int:
        return Clause.objects.filter(section__version=self).count()

    # -- history ----------------------------------------------------------------

    def previous(self, among: Iterable[CodeVersion] | None = None) -> CodeVersion | None:
        """The version this one follows, which every "what changed" compares it with.

        The version it was drafted from, else the latest adopted (or since superseded) version of the code
        prepared before it. ``among``: the versions the caller has loaded and may show (a history page, what
        the reader may read); the previous one is then picked from them alone, without a query.
        """
        if among is None:
            if self.based_on_id:
                return self.based_on
            return (
                CodeVersion.objects.earlier_than(self)
                .exclude(status=VersionStatus.DRAFT)
                .order_by("-created_at", "-pk")
                .first()
            )
        candidates = list(among)
        drafted_from = next((v for v in candidates if v.pk == self.based_on_id), None)
        if drafted_from is not None:
            return drafted_from
        earlier = [v for v in candidates if v.status != VersionStatus.DRAFT and v.prepared_before(self)]
        return max(earlier, key=CodeVersion._preparation_order, default=None)

    def _preparation_order(self) -> tuple[datetime, int]:
        return self.created_at, self.pk

    def prepared_before(self, other: CodeVersion) -> bool:
        """In Python, the order ``CodeVersionQuerySet.earlier_than`` filters by (for versions already loaded)."""
        return self.code_id == other.code_id and self._preparation_order() < other._preparation_order()


class LockedContentQuerySet(models.QuerySet):
    """Bulk changes to sections or clauses of an adopted version are refused."""

    version_lookup = "version"

    def _touches_locked(self) -> bool:
        return self.exclude(**{f"{self.version_lookup}__status": VersionStatus.DRAFT}).exists()

    def update(self, **kwargs):
        if self._touches_locked():
            raise ImmutableVersionError("The text of an adopted code version cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        if self._touches_locked():
            raise ImmutableVersionError("The text of an adopted code version cannot be changed.")
        return super().delete()


class ClauseQuerySet(LockedContentQuerySet):
    version_lookup = "section__version"


def new_key() -> str:
    return uuid.uuid4().hex[:12]


class LockedContent(models.Model):
    """Shared guard for sections and clauses: no save or delete once the version is adopted.

    Subclasses define ``_version_status()``, the status of the version they belong to.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self._version_status() != VersionStatus.DRAFT:
            raise ImmutableVersionError("The text of an adopted code version cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._version_status() != VersionStatus.DRAFT:
            raise ImmutableVersionError("The text of an adopted code version cannot be changed.")
        return super().delete(*args, **kwargs)

    def _version_status(self) -> str:
        raise NotImplementedError


class Section(LockedContent):
    version = models.ForeignKey(CodeVersion, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=32, default=new_key, help_text="Stable identity across versions, for diffs.")
    position = models.PositiveIntegerField()
    number = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=300, blank=True)

    objects = LockedContentQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="section_key_unique_per_version")]

    def __str__(self) -> str:
        return " ".join(part for part in (self.number, self.title) if part) or f"Section {self.position}"

    @property
    def display_name(self) -> str:
        """The section's name on its own pages, by the one rule (conduct.section_names): an untitled section is
        named by its place, which takes one query for its version's headings."""
        headings = list(Section.objects.filter(version_id=self.version_id).order_by("position").only("number", "title"))
        return section_names(headings)[[heading.pk for heading in headings].index(self.pk)]

    def _version_status(self) -> str:
        return CodeVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first() or "draft"


class ClauseStyle(models.TextChoices):
    PARAGRAPH = "paragraph", "Paragraph"
    NUMBERED = "numbered", "Numbered"
    BULLET = "bullet", "Bullet"
    SUBHEADING = "subheading", "Subheading"
    ALWAYS = "always", "Always"
    NEVER = "never", "Never"


class Clause(LockedContent):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="clauses")
    key = models.CharField(max_length=32, default=new_key, help_text="Stable identity across versions, for diffs.")
    position = models.PositiveIntegerField()
    number = models.CharField(max_length=20, blank=True)
    style = models.CharField(max_length=12, choices=ClauseStyle.choices, default=ClauseStyle.PARAGRAPH)
    depth = models.PositiveSmallIntegerField(default=0)
    term = models.CharField(max_length=120, blank=True, help_text="A bold lead-in, e.g. a value's name.")
    text = models.TextField()
    roles = models.JSONField(default=list, blank=True, help_text="Empty: applies to everyone.")
    is_new = models.BooleanField(default=False, help_text="New or updated in this version.")

    objects = ClauseQuerySet.as_manager()

    class Meta:
        ordering = ["section", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(depth__lte=3), name="clause_depth_at_most_3"),
            models.CheckConstraint(condition=~Q(text=""), name="clause_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.text[:60]}".strip()

    def _version_status(self) -> str:
        return (
            CodeVersion.objects.filter(sections__pk=self.section_id).values_list("status", flat=True).first() or "draft"
        )

    def clean(self) -> None:
        unknown = [kind for kind in self.roles or [] if kind not in RoleKind.values]
        if unknown:
            raise ValidationError({"roles": f"Unknown role(s): {', '.join(unknown)}."})


class AttachmentType(models.TextChoices):
    PDF = "application/pdf", "PDF"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document"


class VersionAttachment(LockedContent):
    """A file that is part of a version's text (e.g. the staff code's Appendix 2, "attached as separate file").

    Its SHA-256 is in the version's content hash (``conduct.content``), so it is as fixed as the words once the
    version is adopted: the model refuses a change (``LockedContent``) and so does the database (trigger). The
    bytes are kept in the row, so they travel with the database, its backups and its triggers.
    """

    version = models.ForeignKey(CodeVersion, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, choices=AttachmentType.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    objects = LockedContentQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="attachment_position_unique"),
            models.UniqueConstraint(fields=["version", "filename"], name="attachment_filename_unique"),
            models.UniqueConstraint(fields=["version", "sha256"], name="attachment_file_once_per_version"),
            models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.filename})"

    def _version_status(self) -> str:
        return CodeVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first() or "draft"

    @property
    def kind_label(self) -> str:
        return AttachmentType(self.content_type).label


# ---------------------------------------------------------------------------
# Meetings and adoption
# ---------------------------------------------------------------------------


class MeetingKind(models.TextChoices):
    FULL_BOARD = "full", "Full board meeting"
    EXTRAORDINARY = "extraordinary", "Extraordinary meeting"
    COMMITTEE = "committee", "Committee meeting"
    AGM = "agm", "Annual general meeting"


class Meeting(models.Model):
    board = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField()
    kind = models.CharField(max_length=20, choices=MeetingKind.choices, default=MeetingKind.FULL_BOARD)
    title = models.CharField(max_length=200, blank=True)
    minutes_reference = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"{self.board}: {self.get_kind_display()} on {long_date(self.held_on)}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    APOLOGIES = "apologies", "Apologies sent"
    ABSENT = "absent", "Absent"


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=12, choices=AttendanceStatus.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="attendance_once_per_meeting")]

    def __str__(self) -> str:
        return f"{self.person.full_name}: {self.get_status_display()}"


class Adoption(AppendOnly):
    """A board's adoption of a code version: evidence, so append-only like an acknowledgement."""

    version = models.ForeignKey(CodeVersion, on_delete=models.PROTECT, related_name="adoptions")
    board = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="adoptions")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="adoptions_in_force",
        help_text="Where the version is in force: the board itself or the organisation it governs.",
    )
    includes_sub_organisations = models.BooleanField(
        default=False, help_text="The adoption also covers every organisation below (e.g. all academies)."
    )
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="adoptions")
    minute_reference = models.CharField(max_length=100, blank=True)
    chair = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="adoptions_as_chair")
    chair_signature = models.CharField(max_length=200, help_text="The chair's name, typed as their signature.")
    adopted_on = models.DateField()
    effective_on = models.DateField()
    review_due_on = models.DateField()
    signing_due_on = models.DateField(help_text="When acknowledgements of this version are due.")
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="adoptions_recorded")
    recorded_on_behalf = models.BooleanField(default=False, help_text="The clerk recorded the board's decision.")
    content_hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    evidence_hash = models.CharField(max_length=64)
    verification_code = models.CharField(max_length=19, unique=True, default=new_verification_code)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-adopted_on", "-recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "board"], name="adoption_once_per_board"),
            models.CheckConstraint(
                condition=Q(review_due_on__gte=F("effective_on")), name="adoption_review_after_effective"
            ),
            models.CheckConstraint(
                condition=Q(content_hash__regex=r"^[0-9a-f]{64}$"), name="adoption_has_content_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} adopted by {self.board} on {long_date(self.adopted_on)}"


# ---------------------------------------------------------------------------
# The officers' audit log
# ---------------------------------------------------------------------------


class AuditAction(models.TextChoices):
    """Every kind of change an officer makes to the set-up (what signatories do is in acknowledgements' events)."""

    ORGANISATION_CREATED = "organisation_created", "Organisation created"
    ORGANISATION_RENAMED = "organisation_renamed", "Organisation renamed"
    ORGANISATION_MOVED = "organisation_moved", "Organisation moved"
    ORGANISATION_CLOSED = "organisation_closed", "Organisation closed"
    MEMBERSHIP_REQUESTED = "membership_requested", "Network membership requested"
    MEMBERSHIP_ACCEPTED = "membership_accepted", "Network membership accepted"
    MEMBERSHIP_ENDED = "membership_ended", "Network membership ended"
    PERSON_INVITED = "person_invited", "Person invited"
    PERSON_CHANGED = "person_changed", "Person's details changed"
    ROLE_GRANTED = "role_granted", "Role granted"
    ROLE_ENDED = "role_ended", "Role ended"
    # The full list of officer actions is declared once here (issue 10's audit log), so that
    # adding a service never needs a migration of its own for a new choice.
    ROLE_CHANGED = "role_changed", "Role details changed"
    PERSON_MOVED = "person_moved", "Person moved to another role"
    PERSON_LEFT = "person_left", "Leaver recorded"
    PERSON_DEACTIVATED = "person_deactivated", "Account deactivated"
    PERSON_REACTIVATED = "person_reactivated", "Account reactivated"
    PERSON_ERASED = "person_erased", "Personal data erased"
    LEGAL_HOLD_SET = "legal_hold_set", "Legal hold placed"
    LEGAL_HOLD_RELEASED = "legal_hold_released", "Legal hold released"
    RETENTION_APPLIED = "retention_applied", "Retention schedule applied"
    INVITATION_RESENT = "invitation_resent", "Invitation resent"
    PEOPLE_IMPORTED = "people_imported", "People imported from a file"
    ROSTER_SYNCED = "roster_synced", "Roster synchronised"
    CODE_CREATED = "code_created", "Code created"
    CODE_SETTINGS_CHANGED = "code_settings_changed", "Code settings changed"
    DRAFT_STARTED = "draft_started", "Draft started"
    DRAFT_CHANGED = "draft_changed", "Draft changed"
    DRAFT_IMPORTED = "draft_imported", "Draft imported from a document"
    DRAFT_DISCARDED = "draft_discarded", "Draft discarded"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added to a version"
    ATTACHMENT_REMOVED = "attachment_removed", "Attachment removed from a version"
    VERSION_ADOPTED = "version_adopted", "Version adopted"
    MEETING_CREATED = "meeting_created", "Meeting recorded"
    MEETING_CHANGED = "meeting_changed", "Meeting changed"
    REMINDER_STEPS_CHANGED = "reminder_steps_changed", "Reminder steps changed"
    REMINDERS_SENT_NOW = "reminders_sent_now", "Reminders sent now"
    PAPER_RECORDED = "paper_recorded", "Paper signature recorded"
    PAPER_CORRECTED = "paper_corrected", "Paper record corrected"
    REGISTER_PUBLISHED = "register_published", "Register published"
    REGISTER_UNPUBLISHED = "register_unpublished", "Register unpublished"
    REPORT_REQUESTED = "report_requested", "Report or archive requested"
    BRANDING_CHANGED = "branding_changed", "Branding changed"
    TOKEN_CREATED = "token_created", "Provisioning token created"
    TOKEN_REVOKED = "token_revoked", "Provisioning token revoked"
    EVIDENCE_CHECKED = "evidence_checked", "Evidence checked"


class AuditLogEntry(AppendOnly):
    """One officer action: who did what, to which row, in which organisation, and when. Append-only."""

    actor = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_log_entries",
        help_text="Empty for what the operator did from the command line (the first-run set-up).",
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_log_entries"
    )
    target_type = models.CharField(
        max_length=100, blank=True, help_text='The changed row\'s model, e.g. "conduct.role".'
    )
    target_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    subject = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_trail",
        help_text="The person the change is about, so their page can show every change to them.",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log entries"
        indexes = [
            models.Index(fields=["organisation", "-at"], name="auditlog_by_organisation"),
            models.Index(fields=["target_type", "target_id"], name="auditlog_by_target"),
            models.Index(fields=["subject", "-at"], name="auditlog_by_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.summary}"


class Branding(models.Model):
    """A trust's branding (``conduct.branding``): its logo and an accent colour readable with white (checked on
    save by the service). One row per trust; its name is the organisation's."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="branding")
    accent_colour = models.CharField(max_length=7, blank=True, help_text="#rrggbb, at least 4.5:1 against white.")
    logo = models.BinaryField(blank=True, default=b"")
    logo_type = models.CharField(max_length=20, blank=True)
    logo_sha256 = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(accent_colour="") | Q(accent_colour__regex=r"^#[0-9a-f]{6}$"), name="branding_accent_hex"
            ),
            models.CheckConstraint(
                condition=(Q(logo_sha256="") & Q(logo_type=""))
                | (~Q(logo_sha256="") & Q(logo_type__in=["image/png", "image/jpeg"])),
                name="branding_logo_typed",
            ),
        ]

    def __str__(self) -> str:
        return f"Branding of {self.organisation}"
