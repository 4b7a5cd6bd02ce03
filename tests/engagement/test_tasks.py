"""Tasks for people or teams: versioned changes, and "my tasks" split by the Beijing-time day."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.locking import StaleVersion
from guanxi.customers.models import CustomerEvent
from guanxi.engagement import selectors, services
from guanxi.engagement.models import Task
from tests.factories import make_user

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in Beijing time, November 2026."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_my_tasks_split_by_the_local_day_not_the_utc_day(rep):
    # 23:10 in Beijing is 15:10 UTC: "today" must end at Beijing midnight, not UTC midnight.
    now = at(24, 23, 10)
    overdue = services.create_task(title="昨天的回访", actor=rep, assignee=rep, due_at=at(24, 9))
    later_today = services.create_task(title="今晚的电话", actor=rep, assignee=rep, due_at=at(24, 23, 50))
    after_midnight = services.create_task(title="凌晨的提醒", actor=rep, assignee=rep, due_at=at(25, 0, 10))
    undated = services.create_task(title="有空再做", actor=rep, assignee=rep)

    buckets = selectors.my_tasks(rep, now=now)

    assert buckets.overdue == [overdue]
    assert buckets.today == [later_today]
    assert buckets.upcoming == [after_midnight, undated]


def test_tasks_due_just_after_local_midnight_count_as_today_once_the_day_turns(rep):
    task = services.create_task(title="凌晨的提醒", actor=rep, assignee=rep, due_at=at(25, 0, 10))

    assert selectors.my_tasks(rep, now=at(25, 0, 5)).today == [task]


def test_team_tasks_are_in_every_members_list_and_done_tasks_drop_out(rep, team, manager):
    team_task = services.create_task(title="展会布置", actor=manager, assignee_team=team, due_at=at(26, 10))
    done = services.create_task(title="已完成", actor=rep, assignee=rep, due_at=at(26, 10))
    services.complete_task(task=done, actor=rep, expected_version=done.version)

    buckets = selectors.my_tasks(rep, now=at(24, 12))

    assert buckets.upcoming == [team_task]


def test_a_task_needs_a_person_or_a_team(rep):
    with pytest.raises(ValidationError) as error:
        services.create_task(title="无人认领", actor=rep)
    assert "assignee" in error.value.message_dict


def test_completing_and_reopening_a_customer_task_is_on_the_timeline(rep, customer):
    task = services.create_task(title="回访", actor=rep, assignee=rep, customer=customer)

    services.complete_task(task=task, actor=rep, expected_version=task.version)
    assert task.status == Task.Status.DONE and task.completed_at is not None
    services.reopen_task(task=task, actor=rep, expected_version=task.version)

    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.completed_at is None
    verbs = list(CustomerEvent.objects.filter(customer=customer, actor=rep).values_list("verb", flat=True))
    assert {"task_completed", "task_reopened"} <= set(verbs)


def test_completing_from_a_stale_copy_is_refused(rep):
    task = services.create_task(title="回访", actor=rep, assignee=rep)
    stale = Task.objects.get(pk=task.pk)
    services.update_task(task=task, actor=rep, expected_version=task.version, title="回访客户")

    with pytest.raises(StaleVersion):
        services.complete_task(task=stale, actor=rep, expected_version=stale.version)
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_reassigning_hands_the_task_to_someone_else(rep, team):
    colleague = make_user(team=team)
    task = services.create_task(title="回访", actor=rep, assignee=rep, due_at=at(26, 9))

    services.reassign_task(task=task, actor=rep, expected_version=task.version, assignee=colleague)

    assert selectors.my_tasks(colleague, now=at(24, 9)).upcoming == [task]
    assert selectors.my_tasks(rep, now=at(24, 9)).upcoming == []


def test_another_reps_customer_tasks_are_invisible(rep, other_rep):
    from tests.factories import make_customer

    theirs = make_customer(other_rep)
    services.create_task(title="他们的任务", actor=other_rep, assignee=other_rep, customer=theirs)

    assert not selectors.tasks_for(rep).exists()
