"""Support's view of complaints and their configuration. Complaints change only through the services
(the case page or the API), so the admin shows them read-only; SLA policies are edited here."""

from django.contrib import admin

from guanxi.service.models import (
    BacklogItem, Complaint, ComplaintCause, ComplaintStep, DefectAlert, Dissatisfaction, SlaEscalation, SlaPolicy,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StepInline(admin.TabularInline):
    model = ComplaintStep
    extra = 0
    can_delete = False
    readonly_fields = ("at", "action", "from_status", "to_status", "actor", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnly):
    list_display = ("reference", "status", "severity", "category", "customer", "handler", "received_at", "resolve_due_at")
    list_filter = ("status", "severity", "category", "channel")
    search_fields = ("reference", "contact_name", "customer__name")
    raw_id_fields = ("customer", "order", "product")
    date_hierarchy = "received_at"
    inlines = [StepInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("severity", "acknowledge_hours", "resolve_hours", "warn_at_percent")


@admin.register(SlaEscalation)
class SlaEscalationAdmin(ReadOnly):
    list_display = ("complaint", "deadline", "due_at", "notified_at")


@admin.register(DefectAlert)
class DefectAlertAdmin(ReadOnly):
    list_display = ("product", "cause", "complaint_count", "window_days", "is_open", "created_at")
    list_filter = ("is_open",)


@admin.register(Dissatisfaction)
class DissatisfactionAdmin(ReadOnly):
    list_display = ("customer", "reaction", "category", "observed_at")
    list_filter = ("reaction", "category")
    raw_id_fields = ("customer",)


@admin.register(ComplaintCause)
class ComplaintCauseAdmin(ReadOnly):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(BacklogItem)
class BacklogItemAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "product", "created_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("product",)


from guanxi.service.models import KnowledgeArticle, ServiceTicket, TicketPart, Warranty  # noqa: E402


class PartInline(admin.TabularInline):
    model = TicketPart
    extra = 0


@admin.register(ServiceTicket)
class ServiceTicketAdmin(ReadOnly):
    list_display = ("__str__", "kind", "status", "customer", "technician", "partner", "visit_at", "completed_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("customer", "order_line")
    inlines = [PartInline]


@admin.register(Warranty)
class WarrantyAdmin(ReadOnly):
    list_display = ("product", "customer", "starts_on", "ends_on", "reminded_at")
    raw_id_fields = ("customer", "order_line")
    date_hierarchy = "ends_on"


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(ReadOnly):
    list_display = ("question", "product", "is_published", "updated_at")
    search_fields = ("question", "answer", "keywords")
