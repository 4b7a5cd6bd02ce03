"""What `guanxi worker` adds to django-tasks-db's worker (DESIGN.md pitfall 2).

- A scheduler: periodic jobs registered with `@periodic(...)` in an app's `jobs.py`. Each due
  period is claimed by inserting a `ScheduledRun(job, period)` row; the unique pair means a
  period runs exactly once however many workers tick at the same moment. After downtime the
  missed periods are run in order, at most `catch_up` of them.
- Retry with backoff: a failed task goes back to READY with `run_after` pushed out
  (base × 2^(attempt-1), capped) until it has had `TASK_MAX_ATTEMPTS` attempts.
- A reaper: a RUNNING task whose worker stopped sending heartbeats (killed, machine lost) is
  retried, or failed once its attempts are used up.
- Pruning of finished task results, old scheduled runs and dead heartbeats.

Periodic jobs run inline in the worker's scheduler thread: keep them short, and enqueue a
task (on the `bulk` queue) for anything heavy. A failed periodic run is recorded, not retried.
"""

import dataclasses
import datetime
import logging
import os
import socket
import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from guanxi.core.models import ScheduledRun, WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = datetime.timedelta(seconds=30)
EPOCH = datetime.datetime(2000, 1, 3, tzinfo=datetime.UTC)  # a Monday, so weekly periods start on Mondays


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    return _setting("TASK_MAX_ATTEMPTS", 3)


def retry_delay(attempt: int) -> datetime.timedelta:
    """Backoff after the `attempt`-th failure: base, 2×base, 4×base, … capped at an hour."""
    base = _setting("TASK_RETRY_BACKOFF", datetime.timedelta(seconds=30))
    return min(base * 2 ** (attempt - 1), datetime.timedelta(hours=1))


def stale_after() -> datetime.timedelta:
    """A worker silent for this long is presumed dead (several missed heartbeats)."""
    return _setting("WORKER_STALE_AFTER", HEARTBEAT_EVERY * 4)


# --- the scheduler ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PeriodicJob:
    """A function run once per period: every `every`, or daily at local time `daily_at`."""

    name: str
    func: Callable[[datetime.datetime], object]
    every: datetime.timedelta | None = None
    daily_at: datetime.time | None = None
    catch_up: int = 3

    def period_start(self, moment: datetime.datetime) -> datetime.datetime:
        """The start of the period containing `moment`."""
        if self.every is not None:
            return EPOCH + ((moment - EPOCH) // self.every) * self.every
        local = timezone.localtime(moment)
        start = timezone.make_aware(datetime.datetime.combine(local.date(), self.daily_at))
        return start if start <= moment else start - datetime.timedelta(days=1)

    @property
    def length(self) -> datetime.timedelta:
        return self.every if self.every is not None else datetime.timedelta(days=1)

    def due_periods(self, last: datetime.datetime | None, now: datetime.datetime) -> list[datetime.datetime]:
        """Periods to run now: the current one and up to `catch_up` missed ones, oldest first."""
        current = self.period_start(now)
        if last is None:
            return [current]
        periods = []
        period = current
        while period > last and len(periods) < max(self.catch_up, 1):
            periods.append(period)
            period -= self.length
        return sorted(periods)


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def periodic(name: str, *, every: datetime.timedelta | None = None, daily_at: datetime.time | None = None,
             catch_up: int = 3):
    """Register `func(period_start)` to run once per period. Give exactly one of `every`, `daily_at`."""
    if (every is None) == (daily_at is None):
        raise ValueError("give exactly one of every= or daily_at=")
    if every is not None and every <= datetime.timedelta(0):
        raise ValueError("every must be positive")

    def register(func):
        PERIODIC_JOBS[name] = PeriodicJob(name=name, func=func, every=every, daily_at=daily_at, catch_up=catch_up)
        return func

    return register


def discover_jobs() -> dict[str, PeriodicJob]:
    """Import every installed app's `jobs` module so its @periodic registrations take effect."""
    autodiscover_modules("jobs")
    return PERIODIC_JOBS


def claim(job: PeriodicJob, period: datetime.datetime, worker_id: str) -> ScheduledRun | None:
    """Insert the (job, period) row; None if another worker got there first."""
    try:
        with transaction.atomic():
            return ScheduledRun.objects.create(job=job.name, period=period, worker_id=worker_id[:64])
    except IntegrityError:
        return None


def run_due_jobs(*, worker_id: str, now: datetime.datetime | None = None,
                 jobs: dict[str, PeriodicJob] | None = None) -> list[ScheduledRun]:
    """One scheduler tick: run every due period this worker manages to claim; returns those runs."""
    now = now or timezone.now()
    runs = []
    for job in (PERIODIC_JOBS if jobs is None else jobs).values():
        last = ScheduledRun.objects.filter(job=job.name).order_by("-period").values_list("period", flat=True).first()
        for period in job.due_periods(last, now):
            run = claim(job, period, worker_id)
            if run is None:
                continue
            try:
                job.func(period)
            except Exception:
                logger.exception("periodic job %s failed for period %s", job.name, period.isoformat())
                run.status, run.error = ScheduledRun.Status.FAILED, traceback.format_exc()[-5000:]
            else:
                run.status = ScheduledRun.Status.DONE
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
            runs.append(run)
    return runs


# --- retries and the reaper ---------------------------------------------------------------------


def attempts(result: DBTaskResult) -> int:
    """Each claim appends the worker's id, so the list's length counts attempts."""
    return len(result.worker_ids or [])


def retry_or_give_up(result: DBTaskResult, now: datetime.datetime | None = None) -> bool:
    """Put a failed (or orphaned) task back in the queue with backoff; False once attempts are used up."""
    now = now or timezone.now()
    done = attempts(result)
    if done >= max_attempts():
        return False
    DBTaskResult.objects.filter(pk=result.pk).update(
        status=TaskResultStatus.READY, run_after=now + retry_delay(done), finished_at=None,
    )
    logger.warning("task %s attempt %d failed; retrying in %s", result.pk, done, retry_delay(done))
    return True


class WorkerLost(Exception):
    """The worker running this task stopped sending heartbeats."""


def reap_stale_tasks(now: datetime.datetime | None = None) -> int:
    """Requeue (or fail) RUNNING tasks whose worker has been silent for `stale_after()`; returns how many."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    alive = set(WorkerHeartbeat.objects.filter(last_seen_at__gte=cutoff).values_list("worker_id", flat=True))
    reaped = 0
    for result in DBTaskResult.objects.running().filter(started_at__lt=cutoff):
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            if not DBTaskResult.objects.running().filter(pk=result.pk, started_at=result.started_at).exists():
                continue  # finished or reaped meanwhile
            if not retry_or_give_up(result, now):
                error = WorkerLost(f"worker {result.worker_ids[-1] if result.worker_ids else '?'} stopped responding")
                result.set_failed(error)
        reaped += 1
    return reaped


def beat(worker_ids: list[str], *, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    for worker_id in worker_ids:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id, defaults={"last_seen_at": now, "hostname": socket.gethostname()[:255], "pid": os.getpid()},
        )


def forget_worker(worker_ids: list[str]) -> None:
    WorkerHeartbeat.objects.filter(worker_id__in=worker_ids).delete()


# --- pruning ------------------------------------------------------------------------------------


def prune(now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete successful results after 7 days, failed ones after 30, scheduled runs after 90."""
    now = now or timezone.now()
    keep_ok = _setting("TASK_RESULTS_KEEP_SUCCESSFUL", datetime.timedelta(days=7))
    keep_failed = _setting("TASK_RESULTS_KEEP_FAILED", datetime.timedelta(days=30))
    return {
        "successful": DBTaskResult.objects.successful().filter(finished_at__lt=now - keep_ok).delete()[0],
        "failed": DBTaskResult.objects.failed().filter(finished_at__lt=now - keep_failed).delete()[0],
        "scheduled_runs": ScheduledRun.objects.filter(period__lt=now - datetime.timedelta(days=90)).delete()[0],
        "heartbeats": WorkerHeartbeat.objects.filter(last_seen_at__lt=now - datetime.timedelta(days=1)).delete()[0],
    }


@periodic("core.prune", daily_at=datetime.time(3, 30), catch_up=1)
def prune_daily(period: datetime.datetime) -> None:
    counts = prune()
    logger.info("pruned %s", counts)


# --- the worker -----------------------------------------------------------------------------------


class RetryingWorker(Worker):
    """django-tasks-db's Worker, with failed tasks retried under backoff."""

    def run_task(self, db_task_result: DBTaskResult) -> None:
        super().run_task(db_task_result)
        if db_task_result.status == TaskResultStatus.FAILED:
            retry_or_give_up(db_task_result)
