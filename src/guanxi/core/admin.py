"""Support views of the worker's own tables: what ran when, and which workers are alive."""

from django.contrib import admin

from guanxi.core.models import ScheduledRun, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by `guanxi worker` only: editing them by hand would break exactly-once runs."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ["job", "period", "status", "worker_id", "started_at", "finished_at"]
    list_filter = ["status", "job"]
    search_fields = ["job"]
    date_hierarchy = "period"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["worker_id", "hostname", "pid", "started_at", "last_seen_at"]
