import datetime

from django.tasks import task

from guanxi.care import services


@task(queue_name="bulk")
def apply_care_rules(day: str) -> int:
    return services.apply_care_rules(day=datetime.date.fromisoformat(day))
