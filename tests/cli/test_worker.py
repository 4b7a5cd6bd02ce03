"""`guanxi worker`: periodic jobs exactly once per period, retries with backoff, reaping dead workers."""

import datetime
import threading

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guanxi.core import jobs
from guanxi.core.models import ScheduledRun, WorkerHeartbeat
from tests.cli.tasks import always_fails, succeeds

NOW = datetime.datetime(2026, 11, 24, 10, 15, tzinfo=datetime.UTC)


def hourly_job(calls: list) -> dict[str, jobs.PeriodicJob]:
    job = jobs.PeriodicJob(name="tests.hourly", func=calls.append, every=datetime.timedelta(hours=1))
    return {job.name: job}


def run_worker_once(worker_id: str = "test-worker") -> None:
    """What `guanxi worker --batch` does with the ready tasks (it commits: tests using it are transactional)."""
    jobs.RetryingWorker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                        max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()


@pytest.mark.django_db(transaction=True)
def test_a_period_runs_once_when_two_schedulers_tick_at_the_same_moment():
    # Given two workers whose scheduler ticks race for the same hour
    calls = []
    registry = hourly_job(calls)
    start = threading.Barrier(2)

    def tick(worker_id):
        try:
            start.wait()
            jobs.run_due_jobs(worker_id=worker_id, now=NOW, jobs=registry)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then the job ran once, for the hour that contains the tick
    assert calls == [datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC)]
    assert ScheduledRun.objects.filter(job="tests.hourly", status=ScheduledRun.Status.DONE).count() == 1


def test_a_period_that_has_run_does_not_run_again(db):
    calls = []
    registry = hourly_job(calls)
    jobs.run_due_jobs(worker_id="w", now=NOW, jobs=registry)
    jobs.run_due_jobs(worker_id="w", now=NOW + datetime.timedelta(minutes=40), jobs=registry)
    assert len(calls) == 1


def test_missed_periods_are_caught_up_after_downtime(db):
    # Given a job that last ran at 10:00 and a worker that was down until 13:20
    calls = []
    registry = hourly_job(calls)
    jobs.run_due_jobs(worker_id="w", now=NOW, jobs=registry)
    jobs.run_due_jobs(worker_id="w", now=NOW + datetime.timedelta(hours=3, minutes=5), jobs=registry)
    # Then 11:00, 12:00 and 13:00 run, in order
    assert [c.hour for c in calls] == [10, 11, 12, 13]


def test_a_failing_periodic_job_is_recorded_with_its_error(db):
    def broken(period):
        raise RuntimeError("no mail server")

    job = jobs.PeriodicJob(name="tests.broken", func=broken, every=datetime.timedelta(hours=1))
    jobs.run_due_jobs(worker_id="w", now=NOW, jobs={job.name: job})
    run = ScheduledRun.objects.get(job="tests.broken")
    assert run.status == ScheduledRun.Status.FAILED and "no mail server" in run.error


def test_a_daily_job_runs_for_the_local_day(db):
    calls = []
    job = jobs.PeriodicJob(name="tests.daily", func=calls.append, daily_at=datetime.time(3, 30))
    # 2026-11-24 10:15 UTC is 18:15 in Shanghai: today's 03:30 run is due
    jobs.run_due_jobs(worker_id="w", now=NOW, jobs={job.name: job})
    assert [timezone.localtime(c).isoformat() for c in calls] == ["2026-11-24T03:30:00+08:00"]


@override_settings(TASK_MAX_ATTEMPTS=3, TASK_RETRY_BACKOFF=datetime.timedelta(seconds=30))
@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_retried_with_growing_backoff_then_given_up():
    result = always_fails.enqueue()
    delays = []
    for _attempt in range(2):
        run_worker_once()
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == TaskResultStatus.READY
        delays.append((row.run_after - timezone.now()).total_seconds())
        DBTaskResult.objects.filter(pk=result.id).update(run_after=timezone.now())  # time passes
    run_worker_once()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path.endswith("Flaky")
    assert len(row.worker_ids) == 3
    assert 25 < delays[0] <= 30 and 55 < delays[1] <= 60


@pytest.mark.django_db(transaction=True)
def test_a_successful_task_is_not_retried():
    result = succeeds.enqueue(21)
    run_worker_once()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == 42


def claimed_by(worker_id: str, started: datetime.datetime) -> DBTaskResult:
    row = DBTaskResult.objects.get(pk=succeeds.enqueue(1).id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=started)
    return row


@pytest.mark.django_db(transaction=True)
def test_a_task_left_running_by_a_dead_worker_is_requeued():
    # Given a task claimed ten minutes ago by a worker whose last heartbeat is as old
    ten_minutes_ago = timezone.now() - datetime.timedelta(minutes=10)
    WorkerHeartbeat.objects.create(worker_id="dead", last_seen_at=ten_minutes_ago)
    row = claimed_by("dead", ten_minutes_ago)
    # When the reaper runs, then the task is back in the queue and a live worker completes it
    assert jobs.reap_stale_tasks() == 1
    assert DBTaskResult.objects.get(pk=row.pk).status == TaskResultStatus.READY
    DBTaskResult.objects.filter(pk=row.pk).update(run_after=timezone.now())
    run_worker_once()
    assert DBTaskResult.objects.get(pk=row.pk).status == TaskResultStatus.SUCCESSFUL


@override_settings(TASK_MAX_ATTEMPTS=1)
def test_a_dead_workers_task_with_no_attempts_left_is_failed(db):
    row = claimed_by("vanished", timezone.now() - datetime.timedelta(minutes=10))
    jobs.reap_stale_tasks()
    row = DBTaskResult.objects.get(pk=row.pk)
    assert row.status == TaskResultStatus.FAILED and row.exception_class_path.endswith("WorkerLost")


def test_a_task_of_a_live_worker_is_left_alone(db):
    WorkerHeartbeat.objects.create(worker_id="alive", last_seen_at=timezone.now())
    row = claimed_by("alive", timezone.now() - datetime.timedelta(hours=2))  # a long task, still beating
    assert jobs.reap_stale_tasks() == 0
    assert DBTaskResult.objects.get(pk=row.pk).status == TaskResultStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_old_results_are_pruned_and_recent_ones_kept():
    old, recent = succeeds.enqueue(1), succeeds.enqueue(2)
    run_worker_once()
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=timezone.now() - datetime.timedelta(days=8))
    jobs.prune()
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [DBTaskResult.objects.get(pk=recent.id).pk]


def test_the_prune_job_is_registered_for_the_worker():
    assert "core.prune" in jobs.discover_jobs()


def test_support_can_see_scheduled_runs_and_workers_in_the_admin(admin_user, client):
    client.force_login(admin_user)
    jobs.run_due_jobs(worker_id="w", now=NOW, jobs=hourly_job([]))
    jobs.beat(["w-1"])
    assert "tests.hourly" in client.get("/admin/core/scheduledrun/").content.decode()
    assert "w-1" in client.get("/admin/core/workerheartbeat/").content.decode()
