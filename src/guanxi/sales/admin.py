"""Admin for support staff: raw id widgets and indexed filters so pages stay fast with a million orders."""

from django.contrib import admin

from guanxi.sales.models import (
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
