"""Admin for support staff: raw id widgets and indexed filters so pages stay fast with a million orders."""

from django.contrib import admin

from guanxi.sales.models import (
    CollectionCase,
    CollectionPolicy,
    CollectionStep,
    CreditApproval,
    CreditFreezeLift,
    ExpenseBudget,
    Opportunity,
    Order,
    OrderLine,
    OrderSequence,
    Payment,
    PipelineStage,
    Product,
    ProductCategory,
    SalesExpense,
    SalesPlan,
)


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    search_fields = ("name",)
    raw_id_fields = ("parent",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "list_price", "cost", "margin", "currency", "replacement_cycle_days", "is_one_off", "is_active")
    list_filter = ("is_active", "is_one_off", "category")
    search_fields = ("sku", "name")
    raw_id_fields = ("category",)
    readonly_fields = ("version",)


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "probability", "is_won", "is_lost")
    list_display_links = ("name",)
    ordering = ("position",)


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("title", "customer", "stage", "amount", "currency", "probability", "expected_close", "owner", "closed_at")
    list_filter = ("stage",)
    search_fields = ("title",)
    raw_id_fields = ("customer", "owner")
    list_select_related = ("customer", "stage", "owner")
    readonly_fields = ("version",)
    show_full_result_count = False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ("product",)
    fields = ("product", "quantity", "unit_price", "list_price", "unit_cost", "line_total")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "status", "order_date", "due_date", "total", "amount_paid", "currency", "owner", "promised_delivery", "delivered_on")
    list_filter = ("status",)
    search_fields = ("=number",)
    raw_id_fields = ("customer", "opportunity", "owner", "created_by")
    list_select_related = ("customer", "owner")
    readonly_fields = ("version",)
    inlines = [OrderLineInline]
    show_full_result_count = False


@admin.register(OrderSequence)
class OrderSequenceAdmin(admin.ModelAdmin):
    list_display = ("year", "last_number")


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("customer", "order", "amount", "currency", "paid_on", "method", "reference", "recorded_by")
    list_filter = ("method",)
    search_fields = ("reference",)
    raw_id_fields = ("customer", "order", "recorded_by")
    list_select_related = ("customer", "order", "recorded_by")
    show_full_result_count = False


@admin.register(SalesPlan)
class SalesPlanAdmin(admin.ModelAdmin):
    list_display = ("owner", "customer", "period_start", "period_end", "target", "currency")
    raw_id_fields = ("owner", "customer")
    list_select_related = ("owner", "customer")


@admin.register(ExpenseBudget)
class ExpenseBudgetAdmin(admin.ModelAdmin):
    list_display = ("owner", "customer", "period_start", "period_end", "amount", "currency")
    raw_id_fields = ("owner", "customer")
    list_select_related = ("owner", "customer")


@admin.register(SalesExpense)
class SalesExpenseAdmin(admin.ModelAdmin):
    list_display = ("customer", "order", "owner", "spent_on", "category", "amount", "currency")
    list_filter = ("category",)
    raw_id_fields = ("customer", "order", "owner")
    list_select_related = ("customer", "order", "owner")
    show_full_result_count = False


@admin.register(CollectionPolicy)
class CollectionPolicyAdmin(admin.ModelAdmin):
    """One row: when overdue debts escalate and from which stage credit is frozen."""

    list_display = ("__str__", "reminder_after_days", "demand_after_days", "legal_after_days", "freeze_at")

    def has_add_permission(self, request):
        return not CollectionPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the credit services only (approvals, escalation, lifts): the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditApproval)
class CreditApprovalAdmin(ReadOnlyAdmin):
    list_display = ("order", "customer", "reason", "receivable", "credit_limit", "order_total", "decision", "decided_by", "decided_at")
    list_filter = ("decision", "reason")
    raw_id_fields = ("order", "customer", "requested_by", "decided_by")
    list_select_related = ("order", "customer", "decided_by")
    show_full_result_count = False


class CollectionStepInline(admin.TabularInline):
    model = CollectionStep
    extra = 0
    fields = ("stage", "reached_on", "days_overdue", "overdue_amount", "actor", "task")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CollectionCase)
class CollectionCaseAdmin(ReadOnlyAdmin):
    list_display = ("customer", "stage", "opened_on", "frozen_at", "closed_at", "closed_by")
    list_filter = ("stage",)
    raw_id_fields = ("customer", "closed_by")
    list_select_related = ("customer", "closed_by")
    inlines = [CollectionStepInline]
    show_full_result_count = False


@admin.register(CreditFreezeLift)
class CreditFreezeLiftAdmin(ReadOnlyAdmin):
    list_display = ("customer", "lifted_by", "created_at", "note")
    raw_id_fields = ("customer", "lifted_by")
    list_select_related = ("customer", "lifted_by")
