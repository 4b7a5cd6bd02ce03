"""Products, the opportunity pipeline, orders, payments, plans, budgets and sales expenses.

Receivables are derived (order totals minus payments), never stored twice: each order keeps
`amount_paid`, maintained by the payment service in the same transaction.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CURRENCY_CHOICES, TimeStamped, Versioned, money_field


class ProductCategory(TimeStamped):
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(TimeStamped, Versioned):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        ProductCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    list_price = money_field(verbose_name=_("list price"))
    cost = money_field(verbose_name=_("unit cost"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    replacement_cycle_days = models.PositiveIntegerField(
        _("replacement cycle (days)"), null=True, blank=True,
        help_text=_("When a buyer is likely to need a new one (e.g. an appliance after 8 years)."),
    )
    is_one_off = models.BooleanField(
        _("one-off"), default=False, help_text=_("Never bought twice (e.g. a wedding): left out of churn and CLV.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def margin(self) -> Decimal:
        return self.list_price - self.cost

    @property
    def margin_rate(self) -> Decimal | None:
        return (self.margin / self.list_price).quantize(Decimal("0.0001")) if self.list_price else None


class PipelineStage(TimeStamped):
    """A configurable stage; won/lost stages close the opportunity."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    probability = models.PositiveSmallIntegerField(_("default probability %"), default=10)
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)

    class Meta:
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        ordering = ["position"]

    def __str__(self):
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class Opportunity(TimeStamped, Versioned):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="opportunities"
    )
    title = models.CharField(_("title"), max_length=200)
    stage = models.ForeignKey(PipelineStage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    probability = models.PositiveSmallIntegerField(_("probability %"), default=10)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="opportunities",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close", "-id"]
        indexes = [models.Index(fields=["stage", "owner"]), models.Index(fields=["customer", "closed_at"])]

    def __str__(self):
        return self.title

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class Order(TimeStamped, Versioned):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        # Not billed until a manager approves it (授信审批): over the credit limit, or credit frozen.
        CREDIT_HOLD = "credit_hold", _("Awaiting credit approval")
        CONFIRMED = "confirmed", _("Confirmed")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("order number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sales rep"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="orders",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    order_date = models.DateField(_("order date"), default=timezone.localdate)
    due_date = models.DateField(_("payment due"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    total = money_field(verbose_name=_("total"))
    discount_total = money_field(verbose_name=_("discount"))
    cost_total = money_field(verbose_name=_("cost"))
    amount_paid = money_field(verbose_name=_("paid"))
    promised_delivery = models.DateField(_("promised delivery"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "-order_date"]),
            models.Index(fields=["order_date"]),
            models.Index(fields=["owner", "-order_date"]),
            models.Index(fields=["due_date"]),
        ]

    def __str__(self):
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def margin(self) -> Decimal:
        return self.total - self.cost_total


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1)
    unit_price = money_field(verbose_name=_("unit price"))
    list_price = money_field(verbose_name=_("list price"))
    unit_cost = money_field(verbose_name=_("unit cost"))
    line_total = money_field(verbose_name=_("line total"))
    # The production batch or lot shipped, so that an incident notice can reach every buyer of a batch.
    # db_default: the demo and imports insert lines with explicit column lists.
    batch = models.CharField(_("batch / lot"), max_length=40, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [models.Index(fields=["product", "order"]), models.Index(fields=["product", "batch"], name="orderline_product_batch")]

    @property
    def discount(self) -> Decimal:
        return (self.list_price - self.unit_price) * self.quantity


class Payment(TimeStamped):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        CARD = "card", _("Card")
        ALIPAY = "alipay", _("Alipay")
        WECHAT_PAY = "wechat_pay", _("WeChat Pay")
        CHEQUE = "cheque", _("Cheque")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    paid_on = models.DateField(_("paid on"), default=timezone.localdate)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        indexes = [models.Index(fields=["customer", "-paid_on"])]


class SalesPlan(TimeStamped):
    """A sales target for a rep and/or a customer over a period (销售计划)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sales rep"), null=True, blank=True, on_delete=models.CASCADE, related_name="sales_plans")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.CASCADE, related_name="sales_plans")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    target = money_field(verbose_name=_("target"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="sales_plan_period_ordered"),
            models.CheckConstraint(condition=models.Q(owner__isnull=False) | models.Q(customer__isnull=False), name="sales_plan_has_subject"),
        ]


class ExpenseBudget(TimeStamped):
    """Sales-expense budget for a rep and/or a customer over a period (销售费用预算)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sales rep"), null=True, blank=True, on_delete=models.CASCADE, related_name="expense_budgets")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.CASCADE, related_name="expense_budgets")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    amount = money_field(verbose_name=_("budget"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")

    class Meta:
        verbose_name = _("expense budget")
        verbose_name_plural = _("expense budgets")
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="expense_budget_period_ordered"),
            models.CheckConstraint(condition=models.Q(owner__isnull=False) | models.Q(customer__isnull=False), name="expense_budget_has_subject"),
        ]


class SalesExpense(TimeStamped):
    """A cost of selling, recorded per sale and per customer (销售费用)."""

    class Category(models.TextChoices):
        TRAVEL = "travel", _("Travel")
        ENTERTAINMENT = "entertainment", _("Entertainment")
        GIFTS = "gifts", _("Gifts")
        SAMPLES = "samples", _("Samples")
        COMMISSION = "commission", _("Commission")
        OTHER = "other", _("Other")

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="sales_expenses")
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="expenses")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sales rep"), null=True, on_delete=models.SET_NULL, related_name="sales_expenses")
    spent_on = models.DateField(_("date"), default=timezone.localdate)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.OTHER)
    amount = money_field(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sales expense")
        verbose_name_plural = _("sales expenses")
        ordering = ["-spent_on", "-id"]
        indexes = [models.Index(fields=["customer", "spent_on"]), models.Index(fields=["owner", "spent_on"])]


class CreditApproval(TimeStamped):
    """An order held for a manager's credit approval, with the figures the hold was decided on.

    The order itself waits in Order.Status.CREDIT_HOLD (not billed, so it adds nothing to the
    receivables) until a manager approves it (→ confirmed) or rejects it (→ cancelled).
    """

    class Reason(models.TextChoices):
        OVER_LIMIT = "over_limit", _("Over the credit limit")
        FROZEN = "frozen", _("Credit frozen")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn (order cancelled)")

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="credit_approval")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="credit_approvals")
    reason = models.CharField(_("held because"), max_length=16, choices=Reason.choices)
    freeze_reason = models.CharField(_("why credit is frozen"), max_length=300, blank=True)
    receivable = money_field(verbose_name=_("receivable when held"))
    credit_limit = money_field(verbose_name=_("credit limit when held"))
    order_total = money_field(verbose_name=_("order total"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("placed by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("credit approval")
        verbose_name_plural = _("credit approvals")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["decision", "created_at"]), models.Index(fields=["customer", "decision"])]


class CollectionStage(models.TextChoices):
    """Bad-debt escalation, courtesy first (先礼后兵): reminder → formal demand → legal."""

    REMINDER = "reminder", _("Payment reminder")
    DEMAND = "demand", _("Formal demand")
    LEGAL = "legal", _("Legal action")


COLLECTION_STAGES = (CollectionStage.REMINDER, CollectionStage.DEMAND, CollectionStage.LEGAL)


class CollectionPolicy(TimeStamped):
    """When overdue debts escalate, and at which stage credit is frozen (one row, edited in the admin)."""

    reminder_after_days = models.PositiveSmallIntegerField(_("payment reminder after (days overdue)"), default=15)
    demand_after_days = models.PositiveSmallIntegerField(_("formal demand after (days overdue)"), default=45)
    legal_after_days = models.PositiveSmallIntegerField(_("legal action after (days overdue)"), default=90)
    freeze_at = models.CharField(_("freeze credit from"), max_length=10, choices=CollectionStage.choices,
                                 default=CollectionStage.DEMAND, blank=True, help_text=_("Empty: never freeze."))

    class Meta:
        verbose_name = _("collection policy")
        verbose_name_plural = _("collection policy")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reminder_after_days__gte=1, demand_after_days__gt=models.F("reminder_after_days"),
                                   legal_after_days__gt=models.F("demand_after_days")),
                name="collection_policy_days_ordered"),
        ]

    def __str__(self):
        return str(_("Collection policy"))

    @classmethod
    def current(cls) -> "CollectionPolicy":
        return cls.objects.order_by("pk").first() or cls()

    def days_for(self, stage: str) -> int:
        return {CollectionStage.REMINDER: self.reminder_after_days, CollectionStage.DEMAND: self.demand_after_days,
                CollectionStage.LEGAL: self.legal_after_days}[stage]

    def freezes(self, stage: str) -> bool:
        return bool(self.freeze_at) and COLLECTION_STAGES.index(stage) >= COLLECTION_STAGES.index(self.freeze_at)


class CollectionCase(TimeStamped):
    """The collection of one customer's overdue receivables; at most one open case per customer."""

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="collection_cases")
    stage = models.CharField(_("stage"), max_length=10, choices=CollectionStage.choices, blank=True)
    opened_on = models.DateField(_("opened"))
    frozen_at = models.DateTimeField(_("credit frozen since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    close_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        verbose_name = _("collection case")
        verbose_name_plural = _("collection cases")
        ordering = ["-opened_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer"], condition=models.Q(closed_at__isnull=True),
                                               name="one_open_collection_case_per_customer")]

    def __str__(self):
        return f"{self.customer_id}: {self.get_stage_display()}"


class CollectionStep(models.Model):
    """A stage reached by a case: once per case and stage, by the daily job (actor empty) or a person."""

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="steps")
    stage = models.CharField(_("stage"), max_length=10, choices=CollectionStage.choices)
    reached_on = models.DateField(_("reached on"))
    days_overdue = models.PositiveIntegerField(_("days overdue"))
    overdue_amount = money_field(verbose_name=_("overdue amount"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task = models.ForeignKey("engagement.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("collection step")
        verbose_name_plural = _("collection steps")
        ordering = ["reached_on", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "stage"], name="collection_step_once_per_stage")]


class CreditFreezeLift(models.Model):
    """A manager lifted a customer's credit freeze (from collection or from the grade's service
    policy), with a note. It covers freezes that began before it; a later escalation or a new
    move into a frozen grade freezes again."""

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="credit_freeze_lifts")
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lifted by"), null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("note"))
    created_at = models.DateTimeField(_("lifted"), default=timezone.now)

    class Meta:
        verbose_name = _("credit freeze lift")
        verbose_name_plural = _("credit freeze lifts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"])]


class OrderSequence(models.Model):
    """The last order number used in a year; bumped under a row lock so numbers never repeat."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order number sequence")
        verbose_name_plural = _("order number sequences")
