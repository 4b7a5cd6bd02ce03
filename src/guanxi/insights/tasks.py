"""Background tasks (thin: each calls one service). Scoring goes on the `bulk` queue so it never delays mail."""

import datetime

from django.tasks import task

from guanxi.accounts.models import User
from guanxi.insights import services
from guanxi.insights.models import ScoringRun


@task(queue_name="bulk")
def score_customers(*, run_id: int | None = None, as_of: str | None = None, actor_id: int | None = None) -> int:
    """Score a run claimed by the API (`run_id`), or claim and score a new one; returns the run id."""
    if run_id is not None:
        run = services.run_scoring(run=ScoringRun.objects.get(pk=run_id))
    else:
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        run = services.run_scoring(as_of=datetime.date.fromisoformat(as_of) if as_of else None, actor=actor)
    services.evaluate_warnings(as_of=run.as_of)
    return run.pk


@task(queue_name="bulk")
def refresh_winbacks(*, as_of: str | None = None) -> dict[str, int]:
    """Open missing win-back episodes, win back the customers who returned, refresh revenue regained."""
    return services.refresh_winbacks(as_of=datetime.date.fromisoformat(as_of) if as_of else None)
