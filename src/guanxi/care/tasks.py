import datetime

from django.tasks import task

from guanxi.care import services


@task(queue_name="bulk")
def apply_care_rules(day: str) -> int:
    return services.apply_care_rules(day=datetime.date.fromisoformat(day))


@task(queue_name="bulk")
def attribute_campaign_purchases() -> int:
    """Recount purchases for every recent campaign (orders written in bulk skip the per-order hook)."""
    return services.attribute_recent_campaigns()
