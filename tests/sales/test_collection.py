"""Bad-debt escalation (先礼后兵): reminder at 15 days overdue, formal demand at 45 (credit frozen),
legal action at 90 — each stage once per case however often the daily job runs; the case closes
when the overdue balance is paid; a manager can lift a freeze or close a case with a note."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.customers.models import CustomerEvent
from guanxi.engagement.models import Task
from guanxi.insights.models import CustomerScore, GradeHistory, ScoringRun
from guanxi.sales import selectors, services
from guanxi.sales.models import CollectionCase, CollectionPolicy, CollectionStep, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(customer, rep, tea):
    """An unpaid order of 300.00 on net 30 days: due 30 days after it was placed."""
    placed = services.create_order(customer=customer, lines=[{"product": tea, "quantity": 3}], actor=rep,
                                   order_date=datetime.date(2026, 1, 5))
    assert placed.due_date == datetime.date(2026, 2, 4)
    return placed


def days_after_due(order, days):
    return order.due_date + datetime.timedelta(days=days)


def stages(customer):
    return list(CollectionStep.objects.filter(case__customer=customer).order_by("id").values_list("stage", flat=True))


def test_the_default_policy_escalates_at_15_45_and_90_days_and_freezes_from_the_formal_demand():
    policy = CollectionPolicy.current()
    assert (policy.reminder_after_days, policy.demand_after_days, policy.legal_after_days, policy.freeze_at) == (15, 45, 90, "demand")


def test_nothing_happens_one_day_before_the_reminder(overdue, customer):
    assert services.escalate_collections(today=days_after_due(overdue, 14)) == {"opened": 0, "steps": 0, "closed": 0}
    assert not CollectionCase.objects.exists()


def test_the_reminder_is_reached_on_its_day_with_a_task_and_a_timeline_event(overdue, customer, rep):
    services.escalate_collections(today=days_after_due(overdue, 15))
    case = CollectionCase.objects.get(customer=customer)
    assert case.stage == "reminder" and case.frozen_at is None and stages(customer) == ["reminder"]
    step = case.steps.get()
    assert (step.days_overdue, step.overdue_amount, step.actor) == (15, D("300.00"), None)
    assert step.task.assignee == rep and step.task.title == str(services.COLLECTION_TASKS["reminder"])
    assert CustomerEvent.objects.filter(customer=customer, verb="collection_reminder").exists()


def test_rerunning_the_job_records_each_stage_once(overdue, customer):
    day = days_after_due(overdue, 15)
    services.escalate_collections(today=day)
    assert services.escalate_collections(today=day) == {"opened": 0, "steps": 0, "closed": 0}
    services.escalate_collections(today=days_after_due(overdue, 44))
    assert stages(customer) == ["reminder"]
    assert Task.objects.filter(customer=customer).count() == 1


def test_the_formal_demand_on_day_45_freezes_credit_and_new_orders_wait(overdue, customer, rep, tea):
    services.escalate_collections(today=days_after_due(overdue, 15))
    services.escalate_collections(today=days_after_due(overdue, 45))
    case = CollectionCase.objects.get(customer=customer)
    assert case.stage == "demand" and case.frozen_at is not None
    assert Task.objects.filter(customer=customer, title=str(services.COLLECTION_TASKS["demand"])).count() == 1
    assert selectors.credit_standing(customer.pk).frozen
    small = services.create_order(customer=customer, lines=[{"product": tea}], actor=rep)  # well under the limit
    assert small.status == Order.Status.CREDIT_HOLD and small.credit_approval.reason == "frozen"


def test_legal_action_on_day_90_and_never_twice(overdue, customer):
    for days in (15, 45, 89, 90, 90, 120):
        services.escalate_collections(today=days_after_due(overdue, days))
    assert stages(customer) == ["reminder", "demand", "legal"]
    assert Task.objects.filter(customer=customer, title=str(services.COLLECTION_TASKS["legal"])).count() == 1


def test_a_debt_found_late_records_every_stage_reached_but_opens_one_task(overdue, customer):
    services.escalate_collections(today=days_after_due(overdue, 100))
    assert stages(customer) == ["reminder", "demand", "legal"]
    assert list(Task.objects.filter(customer=customer).values_list("title", flat=True)) == [str(services.COLLECTION_TASKS["legal"])]


def test_paying_the_overdue_balance_closes_the_case_and_lifts_the_freeze(
        overdue, customer, rep, tea, django_capture_on_commit_callbacks):
    services.escalate_collections(today=days_after_due(overdue, 50))
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(customer=customer, order=overdue, amount=D("300.00"), actor=rep)
    case = CollectionCase.objects.get(customer=customer)
    assert case.closed_at is not None and case.closed_by is None
    assert not selectors.credit_standing(customer.pk).frozen
    assert services.create_order(customer=customer, lines=[{"product": tea}], actor=rep).status == Order.Status.CONFIRMED


def test_the_daily_job_closes_a_case_paid_meanwhile(overdue, customer, rep):
    services.escalate_collections(today=days_after_due(overdue, 20))
    services.record_payment(customer=customer, order=overdue, amount=D("300.00"), actor=rep)  # no live check in this test
    assert services.escalate_collections(today=days_after_due(overdue, 21))["closed"] == 1
    assert CollectionCase.objects.get(customer=customer).closed_at is not None


def test_a_manager_lifts_a_freeze_with_a_note_and_orders_flow_again(overdue, customer, manager, rep, tea):
    services.escalate_collections(today=days_after_due(overdue, 45))
    services.lift_credit_freeze(customer=customer, actor=manager, note="已签还款计划")
    assert not selectors.credit_standing(customer.pk).frozen
    assert services.create_order(customer=customer, lines=[{"product": tea}], actor=rep).status == Order.Status.CONFIRMED
    assert CustomerEvent.objects.filter(customer=customer, verb="credit_freeze_lifted", actor=manager).exists()


def test_escalating_further_after_a_lift_freezes_again(overdue, customer, manager):
    services.escalate_collections(today=days_after_due(overdue, 45))
    services.lift_credit_freeze(customer=customer, actor=manager, note="已签还款计划")
    services.escalate_collections(today=days_after_due(overdue, 90))
    assert selectors.credit_standing(customer.pk).frozen


def test_a_sales_rep_cannot_lift_a_freeze(overdue, customer, rep):
    services.escalate_collections(today=days_after_due(overdue, 45))
    with pytest.raises(PermissionDenied):
        services.lift_credit_freeze(customer=customer, actor=rep, note="自己解冻")
    assert selectors.credit_standing(customer.pk).frozen


def test_a_manager_closes_a_case_with_a_note_and_it_does_not_reopen_for_the_same_debt(overdue, customer, manager):
    services.escalate_collections(today=days_after_due(overdue, 45))
    case = CollectionCase.objects.get(customer=customer)
    with pytest.raises(ValidationError):
        services.close_collection_case(case=case, actor=manager, note="")
    services.close_collection_case(case=case, actor=manager, note="坏账核销")
    assert not selectors.credit_standing(customer.pk).frozen
    services.escalate_collections(today=days_after_due(overdue, 100))
    assert CollectionCase.objects.filter(customer=customer, closed_at__isnull=True).count() == 0


def _grade(customer, grade):
    from guanxi.insights.models import ServicePolicy

    # the default bad-grade policy (insights migration 0002), in case a transactional test flushed it
    ServicePolicy.objects.get_or_create(grade="bad", with_potential=False, defaults={"name": "先礼后兵", "credit_freeze": True})
    run = ScoringRun.objects.create(as_of=datetime.date(2026, 6, 30), status="done", is_current=True)
    CustomerScore.objects.create(
        run=run, customer=customer, recency_score=1, frequency_score=1, monetary_score=1, rfm_cell=111,
        value_segment="uncertain", behaviour_segment="lapsed", grade=grade, stage="decline", orders=1,
        revenue=D("0"), margin=D("0"), cost_to_serve=D("0"), profit=D("-10"), spend_12m=D("0"),
        first_order_on=datetime.date(2026, 1, 1), last_order_on=datetime.date(2026, 1, 1))
    GradeHistory.objects.create(customer=customer, from_grade="", grade=grade, run=run, on=run.as_of)


def test_a_customer_whose_grade_policy_freezes_credit_is_held(customer, rep, tea):
    _grade(customer, "bad")  # the bad grades' service policies carry credit_freeze
    standing = selectors.credit_standing(customer.pk)
    assert standing.frozen and standing.freeze_source == "grade"
    placed = services.create_order(customer=customer, lines=[{"product": tea}], actor=rep)
    assert placed.status == Order.Status.CREDIT_HOLD


def test_a_normal_grade_does_not_freeze(customer):
    _grade(customer, "normal")
    assert not selectors.credit_standing(customer.pk).frozen


def test_a_manager_lifts_a_grade_freeze(customer, manager):
    _grade(customer, "bad")
    services.lift_credit_freeze(customer=customer, actor=manager, note="担保到位")
    assert not selectors.credit_standing(customer.pk).frozen


def test_the_daily_job_queues_the_escalation_on_the_bulk_queue():
    from django_tasks_db.models import DBTaskResult

    from guanxi.core import jobs

    job = jobs.discover_jobs()["sales.escalate_collections"]
    job.func(datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))))
    task = DBTaskResult.objects.get()
    assert task.queue_name == "bulk" and task.args_kwargs["kwargs"] == {"today": "2026-03-01"}


def test_the_escalation_task_escalates(overdue, customer):
    from guanxi.sales.tasks import escalate_collections

    assert escalate_collections.call(today=days_after_due(overdue, 15).isoformat())["steps"] == 1
    assert stages(customer) == ["reminder"]
