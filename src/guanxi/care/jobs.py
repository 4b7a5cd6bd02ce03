"""The daily care run: enqueued on the bulk queue (a holiday rule can reach every customer)."""

import datetime

from django.utils import timezone

from guanxi.care.tasks import apply_care_rules, attribute_campaign_purchases
from guanxi.core.jobs import periodic


@periodic("care.apply_rules", daily_at=datetime.time(7, 0), catch_up=3)
def apply_rules(period: datetime.datetime) -> None:
    apply_care_rules.enqueue(day=timezone.localtime(period).date().isoformat())


@periodic("care.attribute_campaigns", daily_at=datetime.time(6, 30), catch_up=1)
def attribute_campaigns(period: datetime.datetime) -> None:
    attribute_campaign_purchases.enqueue()
