"""Base models shared by every domain app."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CURRENCY_CHOICES = [("CNY", "CNY"), ("USD", "USD"), ("EUR", "EUR"), ("HKD", "HKD")]


class TimeStamped(models.Model):
    """created_at uses a default (not auto_now_add) so demo data and imports can backdate it."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Versioned(models.Model):
    """Optimistic locking: writers bump `version` with a conditional UPDATE (see core.locking)."""

    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


def money_field(**kwargs) -> models.DecimalField:
    """Money is always Decimal(14, 2); the currency lives in a sibling column."""
    kwargs.setdefault("default", 0)
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class ScheduledRun(models.Model):
    """One run of a periodic job for one period; the unique pair makes each period run exactly once."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job = models.CharField(_("job"), max_length=100)
    period = models.DateTimeField(_("period start"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    worker_id = models.CharField(_("worker"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        ordering = ["-period", "job"]
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="scheduled_run_once_per_period")]


class WorkerHeartbeat(models.Model):
    """A `guanxi worker` thread that is alive; RUNNING tasks of a silent worker are reaped."""

    worker_id = models.CharField(_("worker"), max_length=64, primary_key=True)
    hostname = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
