"""Capped counts: exact COUNT(*) over a million rows is slow, and nobody reads past 10,000."""

from django.db.models import QuerySet

COUNT_CAP = 10_000


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Return (count, is_capped): the exact count up to `cap`, else (cap, True)."""
    n = queryset.order_by()[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)
