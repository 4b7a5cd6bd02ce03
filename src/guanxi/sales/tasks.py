"""Background tasks (thin: each calls one service)."""

import datetime

from django.tasks import task

from guanxi.sales import services


@task(queue_name="bulk")
def escalate_collections(*, today: str | None = None) -> dict[str, int]:
    """The daily bad-debt escalation; on the bulk queue, since the first run on old data is long."""
    return services.escalate_collections(today=datetime.date.fromisoformat(today) if today else None)
