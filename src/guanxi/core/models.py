"""Base models shared by every domain app."""

from django.db import models
from django.utils import timezone

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
