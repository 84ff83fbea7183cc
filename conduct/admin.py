"""Django admin for platform operators (superusers). Adopted text and evidence are read-only."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from conduct import limits, models
from conduct.forms import at_most_chars
from conduct.services import role_create


class SectionAdminForm(forms.ModelForm):
    """The operator edits a draft's text within conduct.limits, as the editor and the importer do."""

    title = forms.CharField(
        required=False, validators=[at_most_chars(limits.MAX_SECTION_TITLE_CHARS, "The heading", "Shorten it.")]
    )

    class Meta:
        model = models.Section
        fields = ("title",)  # the admin passes the fields it shows; these are the ones this form checks


class ClauseAdminForm(forms.ModelForm):
    text = forms.CharField(
        widget=forms.Textarea,
        validators=[
            at_most_chars(limits.MAX_CLAUSE_TEXT_CHARS, "The clause", "Split it into two clauses, or shorten it.")
        ],
    )
    term = forms.CharField(required=False, validators=[at_most_chars(limits.MAX_TERM_CHARS, "The lead-in")])

    class Meta:
        model = models.Clause
        fields = ("text", "term")


class ReadOnlyWhenLockedAdmin(admin.ModelAdmin):
    """No change or delete once the version this row belongs to is adopted.

    Each admin built on it says, in ``_locked(obj)``, whether the row's version is adopted.
    """

    def _locked(self, obj: Any) -> bool:
        raise NotImplementedError

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not (obj is not None and self._locked(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and self._locked(obj))


class EvidenceAdmin(admin.ModelAdmin):
    """Evidence can be inspected, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class RoleInline(admin.TabularInline):
    model = models.Role
    extra = 0
    fields = ("organisation", "kind", "title", "starts_on", "ends_on", "category", "appointed_by", "term_ends_on")
    autocomplete_fields = ("organisation",)
    show_change_link = True


@admin.register(models.Person)
class PersonAdmin(UserAdmin):
    ordering = ("full_name",)
    list_display = ("full_name", "email", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "roles__kind")
    search_fields = ("full_name", "email")
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "full_name", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    inlines = [RoleInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "governs", "publish_register", "closed_on")
    list_filter = ("kind", "publish_register")
    search_fields = ("name", "short_name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent", "governs")
    readonly_fields = ("path", "created_at")


@admin.register(models.NetworkMembership)
class NetworkMembershipAdmin(admin.ModelAdmin):
    list_display = ("school", "network", "status", "joined_on", "left_on")
    list_filter = ("status", "network")
    search_fields = ("school__name", "network__name")
    autocomplete_fields = ("school", "network")


@admin.register(models.Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("person", "kind", "organisation", "title", "starts_on", "ends_on")
    list_filter = ("kind", "organisation__kind", "organisation")
    search_fields = ("person__full_name", "person__email", "organisation__name", "title")
    autocomplete_fields = ("person", "organisation")
    date_hierarchy = "starts_on"
    list_select_related = ("person", "organisation")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New roles go through the service so the person owes the codes in force where they join.
        created = role_create(
            **{
                f: getattr(obj, f)
                for f in (
                    "person",
                    "organisation",
                    "kind",
                    "starts_on",
                    "title",
                    "ends_on",
                    "category",
                    "appointed_by",
                    "term_ends_on",
                )
            }
        )
        obj.pk = created.pk


@admin.register(models.Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "signing_due_days", "requires_declaration")
    list_filter = ("owner", "requires_declaration")
    search_fields = ("title", "slug", "owner__name")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("owner",)
    raw_id_fields = ("derived_from",)


class SectionInline(admin.TabularInline):
    model = models.Section
    form = SectionAdminForm
    fields = ("position", "number", "title")
    extra = 0
    show_change_link = True

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_locked

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_locked

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_locked


@admin.register(models.CodeVersion)
class CodeVersionAdmin(ReadOnlyWhenLockedAdmin):
    list_display = ("code", "label", "status", "effective_on", "review_due_on", "adopted_at")
    list_filter = ("status", "code__owner", "code")
    search_fields = ("code__title", "label", "content_hash")
    readonly_fields = (
        "content_hash",
        "status",
        "adopted_at",
        "superseded_at",
        "created_at",
        "updated_at",
        "updated_by",
        "revision",
    )
    raw_id_fields = ("based_on", "created_by")
    inlines = [SectionInline]

    def _locked(self, obj) -> bool:
        return obj.is_locked


class ClauseInline(admin.StackedInline):
    model = models.Clause
    form = ClauseAdminForm
    fields = (("position", "number", "style", "depth"), "term", "text", ("roles", "is_new"))
    extra = 0

    def _locked(self, obj) -> bool:
        return obj is not None and obj.version.is_locked

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj)

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj)


@admin.register(models.Section)
class SectionAdmin(ReadOnlyWhenLockedAdmin):
    form = SectionAdminForm
    list_display = ("__str__", "version", "position")
    list_filter = ("version__code", "version__status")
    search_fields = ("title", "version__code__title")
    list_select_related = ("version__code",)
    inlines = [ClauseInline]

    def _locked(self, obj) -> bool:
        return obj.version.is_locked


@admin.register(models.Clause)
class ClauseAdmin(ReadOnlyWhenLockedAdmin):
    form = ClauseAdminForm
    list_display = ("number", "short_text", "style", "is_new", "section")
    list_filter = ("section__version__code", "style", "is_new", "section__version__status")
    search_fields = ("text", "term", "number")
    list_select_related = ("section__version__code",)

    @admin.display(description="Text")
    def short_text(self, obj):
        return obj.text[:80]

    def _locked(self, obj) -> bool:
        return obj.section.version.is_locked


class AttendanceInline(admin.TabularInline):
    model = models.Attendance
    extra = 0
    autocomplete_fields = ("person",)


@admin.register(models.Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("board", "held_on", "kind", "title", "minutes_reference")
    list_filter = ("kind", "board")
    search_fields = ("board__name", "title", "minutes_reference")
    date_hierarchy = "held_on"
    inlines = [AttendanceInline]


@admin.register(models.Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ("person", "meeting", "status")
    list_filter = ("status", "meeting__board")
    search_fields = ("person__full_name", "meeting__board__name")
    list_select_related = ("person", "meeting__board")


@admin.register(models.Adoption)
class AdoptionAdmin(EvidenceAdmin):
    list_display = ("version", "board", "adopted_on", "chair", "recorded_by", "review_due_on")
    list_filter = ("board", "version__code", "recorded_on_behalf")
    search_fields = ("version__code__title", "board__name", "chair__full_name", "evidence_hash")
    date_hierarchy = "adopted_on"
    list_select_related = ("version__code", "board", "chair", "recorded_by")


@admin.register(models.AuditLogEntry)
class AuditLogEntryAdmin(EvidenceAdmin):
    """The officers' audit log, to read: entries are made only by the services that make the changes."""

    list_display = ("at", "action", "actor", "organisation", "summary")
    list_filter = ("action", "organisation")
    search_fields = ("summary", "actor__full_name", "actor__email", "organisation__name", "target_id")
    date_hierarchy = "at"
    list_select_related = ("actor", "organisation")


@admin.register(models.VersionAttachment)
class VersionAttachmentAdmin(EvidenceAdmin):
    """A version's attached files, to read: drafters add them through the editor, which audits each change."""

    list_display = ("version", "position", "title", "filename", "size", "sha256", "added_at")
    search_fields = ("title", "filename", "sha256", "version__code__title")
    exclude = ("content",)
    list_select_related = ("version__code",)


@admin.register(models.Branding)
class BrandingAdmin(EvidenceAdmin):
    """Branding, to read: a trust's admins change it on its Branding page, which checks contrast and audits."""

    list_display = ("organisation", "accent_colour", "logo_type", "updated_at", "updated_by")
    search_fields = ("organisation__name",)
    exclude = ("logo",)
    list_select_related = ("organisation", "updated_by")
