"""Daily bad-debt escalation (run by `guanxi worker`'s scheduler; see guanxi.core.jobs)."""

import datetime

from django.utils import timezone

from guanxi.core.jobs import periodic
from guanxi.sales.tasks import escalate_collections


@periodic("sales.escalate_collections", daily_at=datetime.time(6, 0), catch_up=1)
def daily_escalation(period: datetime.datetime) -> None:
    """Enqueue, don't escalate inline: the scheduler thread must stay short. Exactly once per day:
    the scheduler claims the period, and each stage is a unique (case, stage) row besides."""
    escalate_collections.enqueue(today=timezone.localtime(period).date().isoformat())
