"""Nightly scoring (run by `guanxi worker`'s scheduler; see guanxi.core.jobs)."""

import datetime

from django.utils import timezone

from guanxi.core.jobs import periodic
from guanxi.insights.tasks import score_customers


@periodic("insights.nightly_scoring", daily_at=datetime.time(2, 0), catch_up=1)
def nightly_scoring(period: datetime.datetime) -> None:
    """Enqueue, don't score inline: the scheduler thread must stay short. Scores are as of yesterday,
    the last complete day."""
    as_of = timezone.localtime(period).date() - datetime.timedelta(days=1)
    score_customers.enqueue(as_of=as_of.isoformat())


@periodic("insights.winback_detection", daily_at=datetime.time(3, 0), catch_up=1)
def winback_detection(period: datetime.datetime) -> None:
    """Daily: lost customers who bought again or came back are won back (in bulk, on the bulk queue)."""
    from guanxi.insights.tasks import refresh_winbacks

    refresh_winbacks.enqueue(as_of=timezone.localtime(period).date().isoformat())
