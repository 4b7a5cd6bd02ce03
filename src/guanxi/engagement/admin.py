"""Admin for support staff: raw id widgets so pages stay fast on big tables."""

from django.contrib import admin

from guanxi.engagement.models import Interaction, Task


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("subject", "customer", "channel", "direction", "content_type", "phase", "occurred_at", "actor")
    list_filter = ("channel", "direction", "content_type", "phase")
    search_fields = ("subject",)
    raw_id_fields = ("customer", "contact", "actor")
    list_select_related = ("customer", "actor")
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "customer", "assignee", "assignee_team", "due_at", "priority", "status", "completed_at")
    list_filter = ("status", "priority")
    search_fields = ("title",)
    raw_id_fields = ("customer", "opportunity", "assignee", "assignee_team", "created_by")
    list_select_related = ("customer", "assignee", "assignee_team")
    readonly_fields = ("version",)
    show_full_result_count = False
