"""Admin: administrators configure rules, policies and tiers; scores, runs and the export log are read-only."""

from django.contrib import admin

from guanxi.insights.models import (
    CustomerExport,
    CustomerScore,
    GradeHistory,
    ScoringRun,
    ServicePolicy,
    SpendTier,
    Warning,
    WarningRule,
    WinBack,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "as_of", "status", "is_current", "progress", "customers", "started_at", "finished_at", "started_by")
    list_filter = ("status", "is_current")


@admin.register(CustomerScore)
class CustomerScoreAdmin(ReadOnlyAdmin):
    list_display = ("customer", "run", "grade", "rfm_cell", "value_segment", "stage", "profit", "clv", "p_alive")
    list_filter = ("grade", "value_segment", "stage")
    raw_id_fields = ("customer", "run")
    list_select_related = ("customer", "run")
    show_full_result_count = False


@admin.register(GradeHistory)
class GradeHistoryAdmin(ReadOnlyAdmin):
    list_display = ("customer", "from_grade", "grade", "on")
    list_filter = ("grade", "from_grade")
    raw_id_fields = ("customer", "run")
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(ServicePolicy)
class ServicePolicyAdmin(admin.ModelAdmin):
    list_display = ("grade", "with_potential", "name", "account_manager", "contact_every_days", "payment_terms", "credit_freeze")


@admin.register(SpendTier)
class SpendTierAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "min_annual_spend")


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "enabled", "parameters")
    list_editable = ("enabled",)


@admin.register(Warning)
class WarningAdmin(ReadOnlyAdmin):
    """Warnings are acknowledged and resolved in the app (with a note), not edited here."""

    list_display = ("kind", "customer", "assignee", "status", "message", "created_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("customer", "subject_user", "assignee")
    list_select_related = ("customer", "assignee")
    search_fields = ("key",)


@admin.register(CustomerExport)
class CustomerExportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "fmt", "rows", "flagged", "filters")
    list_filter = ("flagged", "fmt")


@admin.register(WinBack)
class WinBackAdmin(ReadOnlyAdmin):
    """Read-only: win-backs change through the lost page and the API (start, give up) and the daily job."""

    list_display = ("customer", "lost_on", "reason_category", "owner", "status", "started_at", "ended_on", "outcome", "revenue_regained")
    list_filter = ("status", "reason_category", "outcome")
    raw_id_fields = ("customer", "lost_change", "owner", "task", "started_by", "won_back_order")
    list_select_related = ("customer", "owner")
    show_full_result_count = False
