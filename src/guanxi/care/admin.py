from django.contrib import admin

from guanxi.care.models import CareFiring, CareOptOut, CareRule, IncidentNotice


class ReadOnly(admin.ModelAdmin):
    """Care data changes through the services (pages and API), never by direct edits here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CareRule)
class CareRuleAdmin(ReadOnly):
    list_display = ("name", "kind", "holiday", "grade", "days_before", "days_after", "interval_days", "create_task", "send_email", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(CareFiring)
class CareFiringAdmin(admin.ModelAdmin):
    list_display = ("rule", "customer", "occurrence", "fired_on", "processed_at")
    list_filter = ("rule",)
    raw_id_fields = ("customer", "task", "email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CareOptOut)
class CareOptOutAdmin(ReadOnly):
    list_display = ("customer", "reason", "created_at")
    raw_id_fields = ("customer",)


@admin.register(IncidentNotice)
class IncidentNoticeAdmin(admin.ModelAdmin):
    list_display = ("subject", "product", "batch", "bought_from", "bought_to", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from guanxi.care.models import Campaign, Segment  # noqa: E402


@admin.register(Segment)
class SegmentAdmin(ReadOnly):
    list_display = ("name", "filters", "created_at")


@admin.register(Campaign)
class CampaignAdmin(ReadOnly):
    list_display = ("name", "channel", "status", "segment", "budget", "cost", "holdout_percent", "launched_at")
    list_filter = ("channel", "status")
