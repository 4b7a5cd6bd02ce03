"""Interactions with customers in either direction, and tasks for people or teams."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStamped, Versioned


class Channel(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    FAX = "fax", _("Fax")
    WECHAT = "wechat", _("WeChat")
    WEIBO = "weibo", _("Weibo")
    MEETING = "meeting", _("Meeting")
    EVENT = "event", _("Event")
    WEB_FORM = "web_form", _("Web form")
    HOTLINE = "hotline", _("Hotline")
    SUGGESTION = "suggestion", _("Suggestion box")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class Direction(models.TextChoices):
    OUTBOUND = "out", _("Firm → customer")
    INBOUND = "in", _("Customer → firm")


class ContentType(models.TextChoices):
    """What the communication carries (DOMAIN.md §5)."""

    INFORMATION = "information", _("Information")
    EMOTION = "emotion", _("Emotion")
    PHILOSOPHY = "philosophy", _("Philosophy (mission and values)")
    OPINION = "opinion", _("Opinion")
    POLICY = "policy", _("Policy")


class SalesPhase(models.TextChoices):
    BEFORE = "before", _("Before the sale")
    DURING = "during", _("During the sale")
    AFTER = "after", _("After the sale")


class Interaction(TimeStamped):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    content_type = models.CharField(_("content type"), max_length=16, choices=ContentType.choices, default=ContentType.INFORMATION)
    phase = models.CharField(_("sales phase"), max_length=8, choices=SalesPhase.choices, default=SalesPhase.BEFORE)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL, related_name="interactions"
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["actor", "-occurred_at"]),
            # The unfiltered list (newest first) for roles that see every customer.
            models.Index(fields=["-occurred_at", "-id"], name="interaction_recent_idx"),
        ]

    def __str__(self):
        return self.subject


class Task(TimeStamped, Versioned):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity", verbose_name=_("opportunity"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    assignee_team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "-id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["assignee_team", "status", "due_at"]),
            models.Index(fields=["customer", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(assignee__isnull=False) | models.Q(assignee_team__isnull=False),
                name="task_has_assignee",
            )
        ]

    def __str__(self):
        return self.title
