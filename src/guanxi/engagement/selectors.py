"""Every read of interactions and tasks, starting from what the user may see."""

import datetime
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.visibility import sees_all_customers, visible_customers, visible_related
from guanxi.engagement.models import Interaction, Task


def interactions_for(user: User, customer: int | None = None, *, channel: str | None = None,
                     direction: str | None = None, phase: str | None = None, content_type: str | None = None,
                     since: datetime.datetime | None = None, until: datetime.datetime | None = None,
                     search: str | None = None) -> QuerySet:
    """Interactions on visible customers, newest first, optionally for one customer and filtered."""
    queryset = visible_related(user, Interaction.objects.select_related("customer", "contact", "actor"))
    filters = {
        "customer_id": customer, "channel": channel, "direction": direction, "phase": phase,
        "content_type": content_type, "occurred_at__gte": since, "occurred_at__lt": until,
    }
    queryset = queryset.filter(**{k: v for k, v in filters.items() if v is not None})
    if search:
        queryset = queryset.filter(Q(subject__icontains=search) | Q(body__icontains=search))
    return queryset.order_by("-occurred_at", "-id")


def visible_tasks(user: User) -> QuerySet:
    """Tasks on visible customers, plus tasks the user is assigned to (directly or by team) or created."""
    queryset = Task.objects.select_related("customer", "assignee", "assignee_team", "opportunity")
    if not user.is_active:
        return queryset.none()
    if sees_all_customers(user):
        return queryset
    mine = Q(assignee_id=user.pk) | Q(created_by_id=user.pk)
    if user.team_id:
        mine |= Q(assignee_team_id=user.team_id)
    return queryset.filter(mine | Q(customer_id__in=visible_customers(user).values("pk")))


def local_day(now: datetime.datetime | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """[start of today, start of tomorrow) in the site's time zone (Asia/Shanghai), as aware datetimes."""
    today = timezone.localtime(now or timezone.now()).date()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    return start, timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min))


def tasks_for(user: User, *, mine: bool = False, status: str | None = None, customer: int | None = None,
              due: str | None = None, due_before: datetime.datetime | None = None,
              due_after: datetime.datetime | None = None, search: str | None = None,
              now: datetime.datetime | None = None) -> QuerySet:
    """Visible tasks; `due` is "overdue" (open, past due), "today" (due later today) or "upcoming"."""
    queryset = visible_tasks(user)
    if mine:
        queryset = queryset.filter(_assigned_to(user))
    if due is not None:
        now = now or timezone.now()
        _start, tomorrow = local_day(now)
        queryset = queryset.filter(status=Task.Status.OPEN)
        if due == "overdue":
            queryset = queryset.filter(due_at__lt=now)
        elif due == "today":
            queryset = queryset.filter(due_at__gte=now, due_at__lt=tomorrow)
        else:
            queryset = queryset.filter(Q(due_at__gte=tomorrow) | Q(due_at__isnull=True))
    filters = {"status": status, "customer_id": customer, "due_at__lt": due_before, "due_at__gte": due_after}
    queryset = queryset.filter(**{k: v for k, v in filters.items() if v is not None})
    if search:
        queryset = queryset.filter(title__icontains=search)
    return queryset.order_by(F("due_at").asc(nulls_last=True), "-id")


def _assigned_to(user: User) -> Q:
    condition = Q(assignee_id=user.pk)
    if user.team_id:
        condition |= Q(assignee_team_id=user.team_id)
    return condition


@dataclass(frozen=True)
class TaskBuckets:
    """My open tasks as a day planner shows them: overdue, due today, upcoming (and undated)."""

    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]


def my_tasks(user: User, *, now: datetime.datetime | None = None, limit: int = 200) -> TaskBuckets:
    """Open tasks assigned to the user or their team, split by the local day (TIME_ZONE, Asia/Shanghai).

    "Today" runs from local midnight to local midnight: a task due at 23:30 Beijing time is
    today's even though it is 15:30 UTC, and one due at 00:30 tomorrow is upcoming.
    """
    now = now or timezone.now()
    _start, start_of_tomorrow = local_day(now)
    open_tasks = list(
        visible_tasks(user).filter(_assigned_to(user), status=Task.Status.OPEN).order_by(F("due_at").asc(nulls_last=True), "id")[:limit]
    )
    overdue, today, upcoming = [], [], []
    for task in open_tasks:
        if task.due_at is None or task.due_at >= start_of_tomorrow:
            upcoming.append(task)
        elif task.due_at < now:
            overdue.append(task)
        else:
            today.append(task)
    return TaskBuckets(overdue=overdue, today=today, upcoming=upcoming)
