from django.contrib import admin

from reminders import models


@admin.register(models.ReminderLog)
class ReminderLogAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "step", "planned_for", "status", "sent_at", "attempts")
    list_filter = ("kind", "status", "planned_for")
    search_fields = ("recipient__full_name", "recipient__email", "subject")
    list_select_related = ("recipient",)
    readonly_fields = [f.name for f in models.ReminderLog._meta.fields]

    def has_add_permission(self, request):
        return False
