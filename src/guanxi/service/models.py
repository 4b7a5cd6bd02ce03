"""Complaints (客户投诉) and their handling, dissatisfaction (抱怨), SLA policies and defect alerts.

The complaint's states and the moves between them are one table in `workflow.py`; every move is
a `ComplaintStep` (who, when, what) and a line on the customer's timeline.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CURRENCY_CHOICES, TimeStamped, Versioned, money_field


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    REGISTERED = "registered", _("Registered")
    ACCEPTED = "accepted", _("Accepted as valid")
    ASSIGNED = "assigned", _("Department assigned")
    ANALYSED = "analysed", _("Cause analysed")
    PROPOSED = "proposed", _("Solution proposed")
    APPROVED = "approved", _("Solution approved")
    CARRIED_OUT = "carried_out", _("Solution carried out")
    NOTIFIED = "notified", _("Customer notified")
    RESOLVED = "resolved", _("Customer satisfied")
    REOPENED = "reopened", _("Reopened")
    ACCOUNTED = "accounted", _("Accountability recorded")
    EVALUATED = "evaluated", _("Evaluated")
    CLOSED = "closed", _("Closed as invalid")
    ARCHIVED = "archived", _("Archived")


class Category(models.TextChoices):
    PRODUCT_QUALITY = "product_quality", _("Product quality")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    DELIVERY = "delivery", _("Delivery")
    PRICE = "price", _("Price")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class CausedBy(models.TextChoices):
    FIRM = "firm", _("The firm")
    CUSTOMER = "customer", _("The customer")


class Concerns(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Reaction(models.TextChoices):
    """What a dissatisfied customer does (DOMAIN.md §6), from quietest to loudest."""

    SILENT = "silent", _("Stays silent")
    STOPPED_BUYING = "stopped_buying", _("Stopped buying")
    TOLD_OTHERS = "told_others", _("Told others")
    COMPLAINED = "complained", _("Complained to us")
    CONSUMER_ASSOCIATION = "consumer_association", _("Went to a consumer association")
    LEGAL = "legal", _("Legal action")


class ComplaintCause(TimeStamped):
    """A root cause named during analysis; complaints sharing product and cause signal a defect."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(max_length=100, unique=True, editable=False)  # casefolded name

    class Meta:
        verbose_name = _("complaint cause")
        verbose_name_plural = _("complaint causes")
        ordering = ["name"]

    def __str__(self):
        return self.name


class BacklogItem(TimeStamped):
    """An improvement or product idea that complaints revealed (complaints show defects and ideas)."""

    class Kind(models.TextChoices):
        IMPROVEMENT = "improvement", _("Improvement")
        PRODUCT_IDEA = "product_idea", _("Product idea")

    class ItemStatus(models.TextChoices):
        OPEN = "open", _("Open")
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.IMPROVEMENT)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("backlog item")
        verbose_name_plural = _("backlog items")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class SlaPolicy(TimeStamped):
    """Deadlines per severity, in business hours (working days by China's calendar)."""

    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, unique=True)
    acknowledge_hours = models.PositiveIntegerField(_("acknowledge within (business hours)"))
    resolve_hours = models.PositiveIntegerField(_("resolve within (business hours)"))
    warn_at_percent = models.PositiveSmallIntegerField(
        _("escalate at this percentage of the time used"), default=80,
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["severity"]

    def __str__(self):
        return self.get_severity_display()


class Complaint(TimeStamped, Versioned):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="complaints",
    )
    # Who complained, as they told us (a public form may come from someone we do not know yet).
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # The registration form (投诉处理登记表).
    channel = models.CharField(_("channel"), max_length=16)
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints")
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    caused_by = models.CharField(_("caused by"), max_length=10, choices=CausedBy.choices, blank=True)
    concerns = models.CharField(_("about the"), max_length=10, choices=Concerns.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    reaction = models.CharField(_("customer's reaction"), max_length=24, choices=Reaction.choices, default=Reaction.COMPLAINED)
    description = models.TextField(_("what happened"))
    desired_outcome = models.TextField(_("what the customer wants"), blank=True)
    # Handling.
    department = models.ForeignKey("accounts.Department", verbose_name=_("responsible department"), null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints_handled")
    taken_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("taken over by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invalid_reason = models.TextField(_("why it is not valid"), blank=True)
    cause = models.ForeignKey(ComplaintCause, verbose_name=_("cause"), null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    cause_analysis = models.TextField(_("cause analysis"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    remedy_amount = money_field(verbose_name=_("remedy amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    responsible_person = models.CharField(_("responsible person"), max_length=100, blank=True)
    accountability_measure = models.TextField(_("measure or penalty"), blank=True)
    evaluation = models.TextField(_("evaluation"), blank=True)
    handling_rating = models.PositiveSmallIntegerField(_("satisfaction with the handling (1–5)"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    backlog_item = models.ForeignKey(BacklogItem, verbose_name=_("backlog item"), null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints")
    # Time keeping (SLA).
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by (promised)"), null=True, blank=True)
    # When the SLA's warn share of each deadline is used up: near breach from then on (escalated once).
    acknowledge_warn_at = models.DateTimeField(_("acknowledgement due soon from"), null=True, blank=True)
    resolve_warn_at = models.DateTimeField(_("resolution due soon from"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "resolve_due_at"]),
            models.Index(fields=["status", "resolve_warn_at"]),
            models.Index(fields=["status", "acknowledge_warn_at"]),
            models.Index(fields=["customer", "-received_at"]),
            models.Index(fields=["product", "cause", "received_at"]),
            models.Index(fields=["-received_at", "-id"], name="complaint_recent_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def channel_label(self) -> str:
        from guanxi.engagement.models import Channel

        return dict(Channel.choices).get(self.channel, self.channel)

    @property
    def is_open(self) -> bool:
        from guanxi.service.workflow import OPEN_STATUSES

        return self.status in OPEN_STATUSES


class ComplaintStep(models.Model):
    """One move of a complaint: who did what, when, from which state to which."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("complaint step")
        verbose_name_plural = _("complaint steps")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"])]


class SlaEscalation(TimeStamped):
    """A complaint close to breaching its deadline, escalated to the department's manager — once per deadline."""

    class Deadline(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", _("Acknowledgement")
        RESOLVE = "resolve", _("Resolution")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="escalations")
    deadline = models.CharField(_("deadline"), max_length=12, choices=Deadline.choices)
    due_at = models.DateTimeField(_("due"))
    notified_at = models.DateTimeField(_("manager notified"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA escalation")
        verbose_name_plural = _("SLA escalations")
        constraints = [models.UniqueConstraint(fields=["complaint", "deadline"], name="sla_escalation_once")]


class DefectAlert(TimeStamped):
    """Several complaints with the same product and cause in a window: probably a defect. One open alert per pair."""

    product = models.ForeignKey("sales.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="defect_alerts")
    cause = models.ForeignKey(ComplaintCause, verbose_name=_("cause"), on_delete=models.CASCADE, related_name="defect_alerts")
    complaint_count = models.PositiveIntegerField(_("complaints"))
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    is_open = models.BooleanField(_("open"), default=True)
    backlog_item = models.ForeignKey(BacklogItem, verbose_name=_("backlog item"), null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("defect alert")
        verbose_name_plural = _("defect alerts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["product", "cause"], condition=models.Q(is_open=True), name="defect_alert_once_while_open"),
        ]


class Dissatisfaction(TimeStamped):
    """Dissatisfaction that is not a complaint (抱怨): counted, because most unhappy customers never complain."""

    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="dissatisfactions")
    reaction = models.CharField(_("reaction"), max_length=24, choices=Reaction.choices, default=Reaction.SILENT)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(_("note"), blank=True)
    observed_at = models.DateTimeField(_("observed"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("dissatisfaction")
        verbose_name_plural = _("dissatisfactions")
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["customer", "-observed_at"])]


class ComplaintSequence(models.Model):
    """The last reference number per year (TS-2026-000001), taken under a row lock."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


# --- After-sales service (大服务): tickets, visits, parts, warranties, knowledge base ---------------

class ServiceTicket(TimeStamped, Versioned):
    """Delivery, installation, commissioning, repair or training for a customer, by own staff or a partner."""

    class Kind(models.TextChoices):
        DELIVERY = "delivery", _("Delivery")
        INSTALLATION = "installation", _("Installation")
        COMMISSIONING = "commissioning", _("Commissioning")
        REPAIR = "repair", _("Repair")
        TRAINING = "training", _("Training")

    class TicketStatus(models.TextChoices):
        OPEN = "open", _("Open")
        SCHEDULED = "scheduled", _("Visit scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="service_tickets")
    order_line = models.ForeignKey("sales.OrderLine", verbose_name=_("order line"), null=True, blank=True, on_delete=models.SET_NULL, related_name="service_tickets")
    description = models.TextField(_("description"))
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("technician (own staff)"), null=True, blank=True, on_delete=models.SET_NULL, related_name="service_tickets")
    partner = models.ForeignKey("customers.Referrer", verbose_name=_("partner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="service_tickets")
    visit_at = models.DateTimeField(_("on-site visit"), null=True, blank=True)
    visit_address = models.CharField(_("visit address"), max_length=300, blank=True)
    resolution = models.TextField(_("what was done"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("service ticket")
        verbose_name_plural = _("service tickets")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"]), models.Index(fields=["status", "visit_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class TicketPart(models.Model):
    ticket = models.ForeignKey(ServiceTicket, on_delete=models.CASCADE, related_name="parts")
    product = models.ForeignKey("sales.Product", verbose_name=_("part"), null=True, blank=True, on_delete=models.PROTECT)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1)
    unit_cost = money_field(verbose_name=_("unit cost"))

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")


class Warranty(TimeStamped):
    """The warranty of one order line; a reminder goes out once before it ends."""

    order_line = models.OneToOneField("sales.OrderLine", verbose_name=_("order line"), on_delete=models.CASCADE, related_name="warranty")
    customer = models.ForeignKey("customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="warranties")
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="warranties")
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    reminded_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("warranty")
        verbose_name_plural = _("warranties")
        ordering = ["ends_on"]
        indexes = [models.Index(fields=["ends_on", "reminded_at"])]


class KnowledgeArticle(TimeStamped, Versioned):
    """An answer shared by every channel, so every customer hears the same one."""

    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL)
    is_published = models.BooleanField(_("published"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("knowledge base article")
        verbose_name_plural = _("knowledge base articles")
        ordering = ["question"]

    def __str__(self):
        return self.question
