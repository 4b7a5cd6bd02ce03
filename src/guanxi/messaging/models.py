"""The e-mail outbox: every message is a row written in the business transaction (DESIGN.md pitfall 7).

A task on the "mail" queue sends one row and marks it sent. The row, not the task, is the
truth: a message whose task was lost, or which failed every retry, stays visible here with its
error and can be sent again; a sent message is never sent a second time.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStamped


class OutboundEmail(TimeStamped):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    template = models.CharField(_("template"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="emails",
    )
    about = models.CharField(_("about"), max_length=100, blank=True, help_text=_("What the message is about, e.g. complaint:12."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("queued by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["about"]),
        ]

    def __str__(self):
        return f"{self.subject} → {self.to}"

    @property
    def message_id(self) -> str:
        """Stable per row, so a receiving server can spot a duplicate if a crash ever causes one."""
        return f"<outbox-{self.pk}.{int(self.created_at.timestamp())}@guanxi>"

    @property
    def is_stuck(self) -> bool:
        return self.status == self.Status.SENDING and self.claimed_at is not None and (
            timezone.now() - self.claimed_at).total_seconds() > 600
