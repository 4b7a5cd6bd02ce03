"""Scoring runs and the scores they store, grade history, service policies, spend tiers,
early warnings (预警) and the export log.

Scores are never edited: each run writes a fresh set beside the previous one and becomes
current in one tiny transaction at the end (DESIGN.md pitfall 10), so readers always see
one complete run.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStamped, money_field


class Grade(models.TextChoices):
    """Grades by profit (DOMAIN.md §4); internal, never shown to the customer."""

    KEY = "key", _("Key customer")
    NORMAL = "normal", _("Normal customer")
    SMALL = "small", _("Small customer")
    BAD = "bad", _("Bad customer")


class Stage(models.TextChoices):
    """客户关系阶段 — derived from purchase behaviour."""

    EXPLORATION = "exploration", _("Exploration")
    FORMATION = "formation", _("Formation")
    STABILITY = "stability", _("Stability")
    DECLINE = "decline", _("Decline")


class ValueSegment(models.TextChoices):
    """Customer value matrix: purchase frequency × average purchase value (Marcus 1998)."""

    BEST = "best", _("Best (frequent, high value)")
    FREQUENT = "frequent", _("Frequent (frequent, low value)")
    SPENDER = "spender", _("Spender (rare, high value)")
    UNCERTAIN = "uncertain", _("Uncertain (rare, low value)")


class BehaviourSegment(models.TextChoices):
    """Customer behaviour matrix: recency × frequency."""

    LOYAL = "loyal", _("Loyal")
    NEW = "new", _("New")
    AT_RISK = "at_risk", _("At risk")
    LAPSED = "lapsed", _("Lapsed")


class SpendTier(TimeStamped):
    """Telecom-style spend tier (platinum, gold, …): the highest tier whose minimum the customer's
    spend over the last 12 months reaches. Configurable beside the grades."""

    key = models.SlugField(_("key"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    min_annual_spend = money_field(verbose_name=_("minimum spend in 12 months"))

    class Meta:
        verbose_name = _("spend tier")
        verbose_name_plural = _("spend tiers")
        ordering = ["-min_annual_spend"]

    def __str__(self):
        return self.name


class ScoringRun(models.Model):
    """One computation of every customer's scores, with its parameters and progress."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    as_of = models.DateField(_("scores as of"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    is_current = models.BooleanField(_("current"), default=False)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    phase = models.CharField(_("phase"), max_length=50, blank=True)
    customers = models.PositiveIntegerField(_("customers scored"), default=0)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last progress"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="one_current_scoring_run"),
        ]

    def __str__(self):
        return f"{self.as_of} ({self.get_status_display()})"


class CustomerScore(models.Model):
    """A customer's scores in one run. Time values are in days; money is Decimal."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="scores")
    # RFM (scores 1–5, recent = high R) and the matrices.
    recency_score = models.PositiveSmallIntegerField(_("R"))
    frequency_score = models.PositiveSmallIntegerField(_("F"))
    monetary_score = models.PositiveSmallIntegerField(_("M"))
    rfm_cell = models.PositiveSmallIntegerField(_("RFM cell"), db_index=True)
    value_segment = models.CharField(_("value matrix"), max_length=10, choices=ValueSegment.choices)
    behaviour_segment = models.CharField(_("behaviour matrix"), max_length=8, choices=BehaviourSegment.choices)
    grade = models.CharField(_("grade"), max_length=6, choices=Grade.choices)
    stage = models.CharField(_("relationship stage"), max_length=11, choices=Stage.choices)
    spend_tier = models.CharField(_("spend tier"), max_length=20, blank=True)
    # Money to date.
    orders = models.PositiveIntegerField(_("orders"))
    revenue = money_field(verbose_name=_("revenue to date"))
    margin = money_field(verbose_name=_("gross margin to date"))
    cost_to_serve = money_field(verbose_name=_("sales expenses to date"))
    profit = money_field(verbose_name=_("profit to date"))
    spend_12m = money_field(verbose_name=_("spend in the last 12 months"))
    first_order_on = models.DateField(_("first order"))
    last_order_on = models.DateField(_("last order"))
    # BG/NBD inputs (repeat purchases, days first→last, days first→as of) and outputs; null when
    # the customer bought only one-off products, which stay out of the models.
    frequency = models.PositiveIntegerField(_("repeat purchases"), null=True)
    recency_days = models.FloatField(_("days first to last purchase"), null=True)
    age_days = models.FloatField(_("days since first purchase"), null=True)
    p_alive = models.FloatField(_("P(alive)"), null=True)
    expected_purchases_90d = models.FloatField(_("expected purchases in 90 days"), null=True)
    clv = models.DecimalField(_("CLV (12 months, discounted)"), max_digits=14, decimal_places=2, null=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="one_score_per_customer_per_run")]
        indexes = [
            models.Index(fields=["run", "grade"]),
            models.Index(fields=["run", "-clv"]),
            models.Index(fields=["customer", "run"]),
            models.Index(fields=["run", "p_alive"]),  # at-risk customers (P(alive) below the churn threshold)
        ]


class GradeHistory(models.Model):
    """A grade move, recorded only when a run gives a customer a different grade."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="grade_history")
    from_grade = models.CharField(_("from"), max_length=6, choices=Grade.choices, blank=True)
    grade = models.CharField(_("to"), max_length=6, choices=Grade.choices)
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="grade_moves")
    on = models.DateField(_("date"))

    class Meta:
        verbose_name = _("grade move")
        verbose_name_plural = _("grade moves")
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["customer", "-on"]), models.Index(fields=["on"])]


class ServicePolicy(TimeStamped):
    """How a grade × upgrade potential is served (DOMAIN.md §4); administrators edit it."""

    grade = models.CharField(_("grade"), max_length=6, choices=Grade.choices)
    with_potential = models.BooleanField(_("with upgrade potential"))
    name = models.CharField(_("policy"), max_length=100)
    actions = models.TextField(_("what to do"), blank=True)
    account_manager = models.BooleanField(_("dedicated account manager"), default=False)
    contact_every_days = models.PositiveSmallIntegerField(
        _("contact at least every N days"), null=True, blank=True,
        help_text=_("An overdue alert is raised when the last contact is older."),
    )
    payment_terms = models.CharField(_("payment terms"), max_length=16, blank=True)
    credit_freeze = models.BooleanField(_("credit freeze"), default=False)
    task_title = models.CharField(
        _("task to create"), max_length=200, blank=True, help_text=_("Turned into a task for the owner when set."),
    )

    class Meta:
        verbose_name = _("service policy")
        verbose_name_plural = _("service policies")
        ordering = ["grade", "-with_potential"]
        constraints = [models.UniqueConstraint(fields=["grade", "with_potential"], name="one_policy_per_grade_potential")]

    def __str__(self):
        return self.name


class WarningKind(models.TextChoices):
    CREDIT_LIMIT = "credit_limit", _("Receivables over the credit limit")
    SALES_PACE = "sales_pace", _("Sales behind plan")
    EXPENSES = "expenses", _("Sales expenses climbing or over budget")
    CHURN_RISK = "churn_risk", _("Churn risk")
    LOST = "lost", _("Customer lost")
    CUMULATIVE_PURCHASES = "cumulative_purchases", _("Cumulative purchases passed a threshold")
    REPLACEMENT_DUE = "replacement_due", _("Product due for replacement")
    BIG_ACCOUNT_RISK = "big_account_risk", _("Big-account risk")
    EXPORT_VOLUME = "export_volume", _("Unusual export volume")
    CONTACT_OVERDUE = "contact_overdue", _("Contact overdue")


class WarningRule(TimeStamped):
    """An administrator's switch and thresholds for one kind of warning."""

    kind = models.CharField(_("kind"), max_length=24, choices=WarningKind.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()


class Warning(TimeStamped):
    """One early warning (预警). `key` names the subject and period, and (kind, key) is unique,
    so an evaluation run twice never raises the same warning twice."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=24, choices=WarningKind.choices)
    key = models.CharField(_("key"), max_length=120)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="warnings",
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("about"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+", help_text=_("For warnings about a rep rather than a customer."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="assigned_warnings",
        help_text=_("Empty: administrators handle it."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    message = models.CharField(_("message"), max_length=500)
    suggestion = models.CharField(_("suggested action"), max_length=300, blank=True)
    data = models.JSONField(_("figures"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="warning_once_per_kind_key")]
        indexes = [
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "-created_at"]),
        ]

    def __str__(self):
        return self.message


class CustomerExport(models.Model):
    """Who exported which customers, when and how many (seed 000: data must not leave with the employee)."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="customer_exports")
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    filters = models.JSONField(_("filter"), default=dict, blank=True)
    fmt = models.CharField(_("format"), max_length=4, choices=Format.choices)
    rows = models.PositiveIntegerField(_("rows"))
    flagged = models.BooleanField(_("unusual volume"), default=False)

    class Meta:
        verbose_name = _("customer export")
        verbose_name_plural = _("customer exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]


class WinBack(TimeStamped):
    """One lost episode (a move to "lost") and the attempt to win the customer back (客户关系的恢复).

    Exactly one per episode: `lost_change` is unique. The steps follow the win-back literature
    (Stauss & Friege 1999, "Regaining service customers", J. Service Research 1(4); Thomas,
    Blattberg & Fox 2004, "Recapturing lost customers", J. Marketing Research 41(1)): analyse why
    the customer left, contact them and apologise where the firm was at fault, make an offer fitted
    to the reason, follow up. The episode is won back when the customer buys again (a billed order
    dated after the lost date) or is moved back to current; it ends as given up with a note, or
    when the customer is lost again before coming back.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        WON_BACK = "won_back", _("Won back")
        GIVEN_UP = "given_up", _("Given up")

    class Outcome(models.TextChoices):
        ORDER = "order", _("Bought again")
        STATE = "state", _("Moved back to current")

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="winbacks")
    lost_change = models.OneToOneField("customers.StateChange", on_delete=models.CASCADE, related_name="winback")
    lost_on = models.DateField(_("lost on"))
    reason_category = models.CharField(_("reason"), max_length=16, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="winbacks", help_text=_("The customer's owner when they were lost; they run the win-back."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    task = models.ForeignKey("engagement.Task", verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    outcome = models.CharField(_("how won back"), max_length=8, choices=Outcome.choices, blank=True)
    won_back_order = models.ForeignKey("sales.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revenue_regained = money_field(verbose_name=_("revenue regained"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("win-back")
        verbose_name_plural = _("win-backs")
        ordering = ["-lost_on", "-id"]
        indexes = [
            models.Index(fields=["status", "-lost_on"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["customer", "-lost_on"]),
            models.Index(fields=["-lost_on", "-id"], name="winback_recent_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.lost_on} ({self.get_status_display()})"

    @property
    def days_to_win_back(self) -> int | None:
        return (self.ended_on - self.lost_on).days if self.status == self.Status.WON_BACK and self.ended_on else None
