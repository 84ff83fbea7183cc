"""What people owe, what they signed, what they declared, and the evidence.

``Obligation`` is bookkeeping: one row per person per code version they owe,
opened by an adoption or by someone joining, so dashboards and reminders are
set-based queries. Everything else here is evidence and append-only: the ORM
refuses updates and deletes (``AppendOnly``), the admin offers neither, and
database triggers (migration 0002) refuse raw SQL. A mistake is corrected by a
new record that points at the one it corrects.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.canonical import new_verification_code
from core.display import long_date
from core.models import AppendOnly, AppendOnlyQuerySet
from core.request_meta import AuthMethod


class ObligationStatus(models.TextChoices):
    """Where an obligation stands on a day: the one vocabulary of pages, reminders, reports and exports."""

    SIGNED = "signed", "Signed"
    OUTSTANDING = "outstanding", "Outstanding (not yet due)"
    OVERDUE = "overdue", "Overdue"
    SUPERSEDED = "superseded", "Superseded"


SITE_ZONE = timezone.get_default_timezone  # Europe/London (settings.TIME_ZONE), read once and cached by Django


def obligation_status(
    *, acknowledged_at: datetime | date | None, superseded_at: datetime | date | None, due_on: date, today: date
) -> ObligationStatus:
    """The status of one obligation at the end of ``today`` (Europe/London): the one implementation of the rule.

    ``acknowledged_at`` and ``superseded_at`` are moments (aware datetimes) or the London days they fell on
    (what a report grouped by day reads); either counts from that day on, so as at an earlier day a later
    signature is not there yet. A signature outranks a supersession (only unsigned obligations are superseded).
    It is overdue from the day after ``due_on``.
    """
    if _happened_by(acknowledged_at, today):
        return ObligationStatus.SIGNED
    if _happened_by(superseded_at, today):
        return ObligationStatus.SUPERSEDED
    return ObligationStatus.OVERDUE if due_on < today else ObligationStatus.OUTSTANDING


def _happened_by(moment: datetime | date | None, day: date) -> bool:
    """Whether a moment (or the London day of one) fell on or before ``day``."""
    if moment is None:
        return False
    # A datetime is a date too: it is compared by the day it fell on in the site's time zone.
    # The site's zone itself (not the request's current one, which costs a context lookup per call in exports).
    happened_on = timezone.localdate(moment, SITE_ZONE()) if isinstance(moment, datetime) else moment
    return happened_on <= day


class ObligationQuerySet(models.QuerySet):
    def open(self) -> ObligationQuerySet:
        """Not yet signed and not replaced by a newer version."""
        return self.filter(acknowledged_at__isnull=True, superseded_at__isnull=True)

    def for_current_roles(self, on: date | None = None) -> ObligationQuerySet:
        """Only obligations whose role is still held: leavers owe nothing new."""
        on = on or timezone.localdate()
        return self.filter(Q(role__ends_on__isnull=True) | Q(role__ends_on__gte=on))


class Obligation(models.Model):
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="obligations")
    version = models.ForeignKey("conduct.CodeVersion", on_delete=models.PROTECT, related_name="obligations")
    code = models.ForeignKey("conduct.Code", on_delete=models.PROTECT, related_name="obligations")
    role = models.ForeignKey("conduct.Role", on_delete=models.CASCADE, related_name="obligations")
    organisation = models.ForeignKey("conduct.Organisation", on_delete=models.PROTECT, related_name="obligations")
    adoption = models.ForeignKey("conduct.Adoption", on_delete=models.PROTECT, related_name="obligations")
    owed_from = models.DateField()
    due_on = models.DateField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The person's name, copied here by the database (migration 0017's triggers: on insert and whenever the person
    # changes, from the person's row; on every correction of a person's name, to their obligations), never by
    # Python; null only until the database fills it in (nullable so that SQLite adds it in place, see
    # ``conduct.Role.person_full_name``). It lets the drill-down find the row before a page opened by its number by
    # walking one index of the obligations in the page's order (``reports.drilldown``) instead of probing each
    # person's obligations in turn: page 20 of the trust's overdue, 50,000 people, 2.4 ms against 12.
    person_full_name = models.CharField(max_length=200, null=True, editable=False)  # noqa: DJ001

    objects = ObligationQuerySet.as_manager()

    class Meta:
        ordering = ["due_on"]
        indexes = [
            models.Index(fields=["version", "organisation"]),
            models.Index(fields=["code", "person"]),
            models.Index(fields=["due_on"], condition=Q(acknowledged_at__isnull=True), name="obligation_open_due"),
            # Owed and signed per adoption (the code's history) from the index alone.
            models.Index(fields=["adoption", "acknowledged_at"], name="obligation_adoption_signed"),
            # The drill-down's walk in its order (name, person, version), with what its filters read included
            # (PostgreSQL reads them from the index alone; SQLite ignores INCLUDE).
            models.Index(
                fields=["person_full_name", "person", "version"],
                include=[
                    "id",
                    "code",
                    "organisation",
                    "role",
                    "owed_from",
                    "due_on",
                    "acknowledged_at",
                    "superseded_at",
                ],
                name="obligation_walk_by_name",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="obligation_once_per_person_version"),
            models.CheckConstraint(condition=Q(due_on__gte=F("owed_from")), name="obligation_due_after_owed"),
        ]

    def __str__(self) -> str:
        return f"{self.person.full_name} owes {self.version}"

    def status(self, today: date | None = None) -> ObligationStatus:
        return obligation_status(
            acknowledged_at=self.acknowledged_at,
            superseded_at=self.superseded_at,
            due_on=self.due_on,
            today=today or timezone.localdate(),
        )


class Acknowledgement(AppendOnly):
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acknowledgements")
    version = models.ForeignKey("conduct.CodeVersion", on_delete=models.PROTECT, related_name="acknowledgements")
    obligation = models.ForeignKey(
        Obligation, null=True, blank=True, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    organisation = models.ForeignKey("conduct.Organisation", on_delete=models.PROTECT, related_name="+")
    roles = models.JSONField(default=list, help_text="The role(s) it was owed for, as they stood when signed.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the version's text that was signed.")
    statement = models.TextField(help_text="The acceptance statement exactly as shown.")
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(help_text="Server time (UTC).")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    auth_method = models.CharField(max_length=12, choices=AuthMethod.choices)
    auth_provider = models.CharField(max_length=40, blank=True, help_text="The SSO provider, if any.")
    mfa_used = models.BooleanField(default=False)
    # Recorded on someone's behalf (paper signed at a meeting).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recorded_acknowledgements",
    )
    on_behalf_reason = models.TextField(blank=True)
    paper_signed_on = models.DateField(null=True, blank=True)
    paper_scan = models.FileField(upload_to="scans/%Y/", blank=True)
    paper_scan_sha256 = models.CharField(max_length=64, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    correction_reason = models.TextField(blank=True)
    verification_code = models.CharField(max_length=19, unique=True, default=new_verification_code)
    evidence_hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["version", "signed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "version"],
                condition=Q(corrects__isnull=True),
                name="acknowledgement_once_per_person_version",
            ),
            models.UniqueConstraint(fields=["corrects"], name="acknowledgement_corrected_once"),
            models.CheckConstraint(
                condition=Q(recorded_by__isnull=True) | ~Q(on_behalf_reason=""),
                name="acknowledgement_on_behalf_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="acknowledgement_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(evidence_hash__regex=r"^[0-9a-f]{64}$"), name="acknowledgement_has_evidence_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.full_name} signed {self.version} on {long_date(timezone.localtime(self.signed_at))}"

    def get_absolute_url(self) -> str:
        return reverse("acknowledgements:record", args=[self.pk])

    @property
    def on_behalf(self) -> bool:
        return self.recorded_by_id is not None


class EventKind(models.TextChoices):
    INVITED = "invited", "Invited"
    FIRST_VIEWED = "first_viewed", "First viewed"
    SIGNED = "signed", "Signed"
    RECORDED_ON_BEHALF = "recorded_on_behalf", "Recorded on their behalf"
    PDF_ISSUED = "pdf_issued", "Signed PDF issued"
    PDF_DOWNLOADED = "pdf_downloaded", "PDF downloaded"
    CORRECTED = "corrected", "Corrected"
    ADOPTED = "adopted", "Adopted"


class AuditEvent(AppendOnly):
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audit_events")
    version = models.ForeignKey(
        "conduct.CodeVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    acknowledgement = models.ForeignKey(
        Acknowledgement, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [models.Index(fields=["person", "version", "kind"])]
        constraints = [
            # "First viewed" happens once per person and version, however many tabs race.
            models.UniqueConstraint(
                fields=["person", "version"], condition=Q(kind="first_viewed"), name="event_first_view_once"
            ),
            # One "signed" and one "PDF issued" per acknowledgement: a retried task or a second tab adds none.
            models.UniqueConstraint(fields=["acknowledgement"], condition=Q(kind="signed"), name="event_signed_once"),
            models.UniqueConstraint(
                fields=["acknowledgement"], condition=Q(kind="pdf_issued"), name="event_pdf_issued_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.person.full_name} at {self.occurred_at:%Y-%m-%d %H:%M}"


class InterestKind(models.TextChoices):
    BUSINESS = "business", "Business or financial interest"
    GOVERNANCE = "governance", "Other governance role"
    RELATIONSHIP = "relationship", "Close relationship with staff or governors"
    GIFT = "gift", "Gift or hospitality"
    OTHER = "other", "Other"


class Declaration(AppendOnly):
    """A declaration of interests, or that there is nothing to declare, made on a date."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="declarations")
    organisation = models.ForeignKey("conduct.Organisation", on_delete=models.PROTECT, related_name="declarations")
    acknowledgement = models.ForeignKey(
        Acknowledgement, null=True, blank=True, on_delete=models.PROTECT, related_name="declarations"
    )
    version = models.ForeignKey(
        "conduct.CodeVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="declarations"
    )
    nothing_to_declare = models.BooleanField(default=False)
    made_at = models.DateTimeField(default=timezone.now)
    academic_year_start = models.DateField(help_text="1 September of the academic year it covers.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-made_at"]
        indexes = [models.Index(fields=["person", "made_at"])]

    def __str__(self) -> str:
        what = "nothing to declare" if self.nothing_to_declare else "interests"
        return f"{self.person.full_name}: {what} ({long_date(self.made_at)})"


class Interest(AppendOnly):
    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="interests")
    kind = models.CharField(max_length=20, choices=InterestKind.choices)
    counterparty = models.CharField(max_length=200, help_text="The organisation or person.")
    nature = models.TextField(help_text="The nature of the interest.")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["declaration", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="interest_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.counterparty}"


class SealedPdf(AppendOnly):
    """A PDF we issued: the stored bytes are what every download returns, never a re-render."""

    acknowledgement = models.OneToOneField(
        Acknowledgement, null=True, blank=True, on_delete=models.PROTECT, related_name="pdf"
    )
    adoption = models.OneToOneField(
        "conduct.Adoption", null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    file = models.FileField(upload_to="sealed/%Y/%m/")
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "sealed PDF"
        constraints = [
            models.CheckConstraint(
                condition=(Q(acknowledgement__isnull=False) & Q(adoption__isnull=True))
                | (Q(acknowledgement__isnull=True) & Q(adoption__isnull=False)),
                name="sealed_pdf_has_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"PDF {self.sha256[:12]}…"


class Invitation(models.Model):
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    role = models.ForeignKey("conduct.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.person.email}"


class EmailKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt with the signed PDF"
    INVITATION = "invitation", "Invitation"


class EmailStatus(models.TextChoices):
    """Where one outgoing email stands. Reminders and digests use the same words (``reminders.ReminderStatus``)."""

    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Refused by the mail server"
    GIVEN_UP = "given_up", "Given up after repeated errors"


EMAIL_PROBLEM_STATUSES = (EmailStatus.FAILED, EmailStatus.GIVEN_UP)


class OutgoingEmail(models.Model):
    """One receipt or invitation email: made with what it is about, claimed before it is sent, and its outcome.

    The row is written in the same transaction as the signature or the invitation, so a lost broker
    message loses nothing: the reconciliation sweep finds the row still pending and queues it again.
    Sending claims it with a conditional UPDATE (pending → sending), so it goes once; a refusal (5xx) is
    recorded at once as failed with the server's answer, other errors are kept as ``last_error`` on the row
    while the task retries, until it gives up. (Reminders and digests are rows of ``reminders.ReminderLog``.)
    """

    kind = models.CharField(max_length=12, choices=EmailKind.choices)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outgoing_emails")
    organisation = models.ForeignKey(
        "conduct.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    acknowledgement = models.ForeignKey(
        Acknowledgement, null=True, blank=True, on_delete=models.PROTECT, related_name="emails"
    )
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="emails")
    to_address = models.EmailField(max_length=254, help_text="The address it was (or is to be) sent to.")
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, help_text="The mail server's answer, or why it could not be reached.")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="outgoing_email_status"),
            models.Index(fields=["person", "-created_at"], name="outgoing_email_person"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["acknowledgement"], condition=Q(kind="receipt"), name="outgoing_email_one_receipt"
            ),
            models.UniqueConstraint(fields=["invitation"], name="outgoing_email_one_per_invitation"),
            models.CheckConstraint(
                condition=(Q(kind="receipt") & Q(acknowledgement__isnull=False))
                | (Q(kind="invitation") & Q(invitation__isnull=False)),
                name="outgoing_email_has_subject",
            ),
            models.CheckConstraint(
                condition=(Q(status="sent") & Q(sent_at__isnull=False)) | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outgoing_email_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False), name="outgoing_email_sending_is_claimed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_address} ({self.get_status_display()})"


# What a tally's date columns hold for "never" (the role does not end, the obligation is not superseded or not
# signed): a real date, because a unique key with NULLs in it counts every NULL as distinct on both databases, and
# one after every day a report can ask about, so "ended/superseded/signed by D" reads ``<= D`` with no NULL case.
NEVER = date.max  # 9999-12-31 (conduct.selectors, a lower layer, reads it as date.max)


class ObligationTally(models.Model):
    """How many obligations share the columns that decide every count the dashboard, its drill-down and the code
    history show: maintained by database triggers (migration 0012) as obligations are opened, signed, superseded
    and deleted and as their roles end or change kind, so those pages read a number of rows bounded by the
    organisations and the calendar, not by the people. ``acknowledgements.tally`` recomputes it and repairs drift.

    ``superseded_on`` and ``signed_on`` are London days (``TruncDate``); ``ends_on`` is the role's. ``n`` is never
    0 for long (the triggers delete a row they bring to 0); a negative ``n`` can only mean drift, which
    ``tally_check`` reports and repairs, so it is not refused (a refusal would fail the signature that found it).
    """

    # Indexed only where a page reads them (the key leads with the version, an index with the code, the adoption's
    # own for the code history): every signature updates two rows, and each index is written on each new row.
    organisation = models.ForeignKey("conduct.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False)
    code = models.ForeignKey("conduct.Code", on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey("conduct.CodeVersion", on_delete=models.CASCADE, related_name="+", db_index=False)
    adoption = models.ForeignKey("conduct.Adoption", on_delete=models.CASCADE, related_name="obligation_tallies")
    role_kind = models.CharField(max_length=30)
    owed_from = models.DateField()
    ends_on = models.DateField(default=NEVER)
    superseded_on = models.DateField(default=NEVER)
    signed_on = models.DateField(default=NEVER)
    due_on = models.DateField()
    n = models.IntegerField()

    class Meta:
        constraints = [
            # The upsert's conflict target; version and organisation first, as the dashboard filters.
            models.UniqueConstraint(
                fields=[
                    "version",
                    "organisation",
                    "role_kind",
                    "adoption",
                    "code",
                    "owed_from",
                    "ends_on",
                    "superseded_on",
                    "signed_on",
                    "due_on",
                ],
                name="obligation_tally_key",
            ),
        ]
        indexes = [
            models.Index(fields=["code", "organisation"], name="obligation_tally_code"),
        ]

    def __str__(self) -> str:
        return f"{self.n} × {self.version_id}/{self.organisation_id}/{self.role_kind}"
