from django.contrib import admin

from acknowledgements import models
from conduct.admin import EvidenceAdmin


@admin.register(models.Obligation)
class ObligationAdmin(admin.ModelAdmin):
    list_display = ("person", "version", "organisation", "owed_from", "due_on", "acknowledged_at", "superseded_at")
    list_filter = ("code", "organisation")
    search_fields = ("person__full_name", "person__email")
    date_hierarchy = "due_on"
    list_select_related = ("person", "version__code", "organisation")
    readonly_fields = [f.name for f in models.Obligation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.ObligationTally)
class ObligationTallyAdmin(admin.ModelAdmin):
    """The counts the dashboard reads, to look at only: the triggers keep them and ``tally_check`` repairs them,
    so an edit here would be a wrong number until the next night's repair."""

    list_display = ("version", "organisation", "role_kind", "owed_from", "due_on", "signed_on", "ends_on", "n")
    list_filter = ("code", "role_kind")
    search_fields = ("organisation__name", "version__label", "version__code__title")
    list_select_related = ("version__code", "organisation")
    readonly_fields = [f.name for f in models.ObligationTally._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditEventInline(admin.TabularInline):
    model = models.AuditEvent
    extra = 0
    fields = ("kind", "occurred_at", "actor", "ip_address")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Acknowledgement)
class AcknowledgementAdmin(EvidenceAdmin):
    list_display = ("person", "version", "signed_at", "auth_method", "recorded_by", "corrects")
    list_filter = ("auth_method", "version__code", "mfa_used")
    search_fields = ("person__full_name", "person__email", "verification_code", "evidence_hash")
    date_hierarchy = "signed_at"
    list_select_related = ("person", "version__code", "recorded_by", "corrects")
    inlines = [AuditEventInline]


@admin.register(models.AuditEvent)
class AuditEventAdmin(EvidenceAdmin):
    list_display = ("kind", "person", "version", "occurred_at", "actor", "ip_address")
    list_filter = ("kind",)
    search_fields = ("person__full_name", "person__email")
    date_hierarchy = "occurred_at"
    list_select_related = ("person", "version__code", "actor")


class InterestInline(admin.TabularInline):
    model = models.Interest
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "counterparty", "nature", "starts_on", "ends_on")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Declaration)
class DeclarationAdmin(EvidenceAdmin):
    list_display = ("person", "organisation", "nothing_to_declare", "made_at", "academic_year_start")
    list_filter = ("nothing_to_declare", "organisation", "academic_year_start")
    search_fields = ("person__full_name", "person__email")
    list_select_related = ("person", "organisation")
    inlines = [InterestInline]


@admin.register(models.Interest)
class InterestAdmin(EvidenceAdmin):
    list_display = ("declaration", "kind", "counterparty", "starts_on", "ends_on")
    list_filter = ("kind",)
    search_fields = ("counterparty", "nature", "declaration__person__full_name")


@admin.register(models.SealedPdf)
class SealedPdfAdmin(EvidenceAdmin):
    list_display = ("sha256", "acknowledgement", "adoption", "size", "created_at")
    search_fields = ("sha256",)


@admin.register(models.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("person", "invited_by", "created_at", "sent_at", "accepted_at")
    search_fields = ("person__full_name", "person__email")
    list_select_related = ("person", "invited_by")
    readonly_fields = ("created_at", "sent_at", "accepted_at")


@admin.register(models.OutgoingEmail)
class OutgoingEmailAdmin(EvidenceAdmin):
    """Receipts and invitations as sent (or not): written and updated only by the sending tasks."""

    list_display = ("created_at", "kind", "to_address", "status", "attempts", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("to_address", "person__full_name", "last_error")
    date_hierarchy = "created_at"
    list_select_related = ("person",)
