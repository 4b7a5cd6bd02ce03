"""Scoring off the request: the nightly job, the bulk-queue task run by `guanxi worker`, and `guanxi score`."""

import datetime
import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from guanxi.core import jobs
from guanxi.insights.jobs import nightly_scoring
from guanxi.insights.models import ScoringRun, Warning, WarningRule
from tests.insights.conftest import AS_OF


def test_the_nightly_job_queues_scoring_as_of_yesterday(db):
    nightly_scoring(datetime.datetime(2026, 11, 24, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))))
    task = DBTaskResult.objects.get()
    assert task.queue_name == "bulk" and task.args_kwargs["kwargs"] == {"as_of": "2026-11-23"}


def test_the_nightly_job_is_registered_daily_at_two(db):
    job = jobs.discover_jobs()["insights.nightly_scoring"]
    assert job.daily_at == datetime.time(2, 0)


@pytest.mark.django_db(transaction=True)
def test_a_run_started_from_the_api_is_scored_by_the_worker_and_raises_warnings(shop, manager, api_as):
    # Given a rule that prompts an offer from the first yuan, and a manager who started a run from the API
    WarningRule.objects.update_or_create(kind="cumulative_purchases", defaults={"parameters": {"thresholds": [1], "lookback_days": 10**5}})
    run_id = api_as(manager).post("/scoring-runs", {"as_of": AS_OF.isoformat()}).json()["id"]
    # When `guanxi worker` serves the bulk queue
    jobs.RetryingWorker(queue_names=["bulk"], interval=0, batch=True, backend_name="default", startup_delay=False,
                        max_tasks=None, worker_id="test-worker", excluded_queue_names=[]).run()
    # Then the run is done and current, at 100 %, and the warnings were evaluated on it
    run = ScoringRun.objects.get(pk=run_id)
    assert (run.status, run.is_current, run.progress, run.customers) == ("done", True, 100, len(shop))
    assert Warning.objects.filter(kind="cumulative_purchases").exists()


def test_guanxi_score_scores_and_reports(shop):
    out = io.StringIO()
    call_command("score", as_of=AS_OF, no_warnings=True, stdout=out)
    run = ScoringRun.objects.get(is_current=True)
    assert run.customers == len(shop) and str(run.customers) in out.getvalue()
