"""Sales plans and expense budgets: valid periods, and plan against actual sales."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.sales import selectors, services
from guanxi.sales.models import SalesExpense

D = Decimal
Q2_START, Q2_END = datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)


def test_plan_actual_counts_confirmed_and_delivered_orders_in_the_period_only(rep, customer, tea):
    plan = services.create_sales_plan(actor=rep, owner=rep, period_start=Q2_START, period_end=Q2_END, target=D("1000.00"))
    confirmed = services.create_order(customer=customer, actor=rep, order_date=datetime.date(2026, 4, 2), lines=[{"product": tea, "quantity": 2}])
    delivered = services.create_order(customer=customer, actor=rep, order_date=Q2_END, lines=[{"product": tea}])
    services.deliver_order(order=delivered, actor=rep, expected_version=delivered.version, delivered_on=Q2_END)
    cancelled = services.create_order(customer=customer, actor=rep, order_date=Q2_START, lines=[{"product": tea}])
    services.cancel_order(order=cancelled, actor=rep, expected_version=cancelled.version)
    services.create_order(customer=customer, actor=rep, order_date=Q2_START, status="draft", lines=[{"product": tea}])
    services.create_order(customer=customer, actor=rep, order_date=datetime.date(2026, 7, 1), lines=[{"product": tea}])

    progress = selectors.plan_progress(rep, plan.pk, today=datetime.date(2026, 5, 16))

    assert progress.actual == confirmed.total + delivered.total
    assert progress.achieved_share == ((confirmed.total + delivered.total) / D("1000.00")).quantize(D("0.0001"))
    assert progress.behind_plan == (progress.actual < D("1000.00") * progress.elapsed_share)


def test_a_customer_plan_counts_only_that_customers_orders(rep, customer, tea):
    from tests.factories import make_customer

    other = make_customer(rep)
    plan = services.create_sales_plan(actor=rep, customer=customer, period_start=Q2_START, period_end=Q2_END, target=D("500.00"))
    mine = services.create_order(customer=customer, actor=rep, order_date=Q2_START, lines=[{"product": tea}])
    services.create_order(customer=other, actor=rep, order_date=Q2_START, lines=[{"product": tea}])

    assert selectors.plan_progress(rep, plan.pk).actual == mine.total


def test_a_period_that_ends_before_it_starts_is_refused(rep):
    with pytest.raises(ValidationError) as error:
        services.create_sales_plan(actor=rep, owner=rep, period_start=Q2_END, period_end=Q2_START, target=D("1.00"))
    assert "period_end" in error.value.message_dict


def test_overlapping_plans_for_the_same_rep_are_refused(rep):
    services.create_sales_plan(actor=rep, owner=rep, period_start=Q2_START, period_end=Q2_END, target=D("1.00"))

    with pytest.raises(ValidationError) as error:
        services.create_sales_plan(actor=rep, owner=rep, period_start=Q2_END, period_end=datetime.date(2026, 9, 30), target=D("1.00"))
    assert "period_start" in error.value.message_dict


def test_a_rep_cannot_set_a_plan_for_another_rep(rep, other_rep):
    with pytest.raises(PermissionDenied):
        services.create_sales_plan(actor=rep, owner=other_rep, period_start=Q2_START, period_end=Q2_END, target=D("1.00"))


def test_expenses_against_the_budget_flag_overspending(rep, customer, tea):
    budget = services.create_expense_budget(actor=rep, customer=customer, period_start=Q2_START, period_end=Q2_END, amount=D("100.00"))
    order = services.create_order(customer=customer, actor=rep, order_date=Q2_START, lines=[{"product": tea}])
    services.record_sales_expense(actor=rep, customer=customer, order=order, amount=D("60.00"),
                                  category=SalesExpense.Category.ENTERTAINMENT, spent_on=datetime.date(2026, 4, 3))
    assert not selectors.budget_use(rep, budget.pk).over_budget

    services.record_sales_expense(actor=rep, customer=customer, amount=D("40.01"), spent_on=datetime.date(2026, 5, 3))

    use = selectors.budget_use(rep, budget.pk)
    assert use.spent == D("100.01")
    assert use.over_budget


def test_expenses_are_recorded_per_sale_and_per_customer(rep, customer, tea):
    order = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])

    expense = services.record_sales_expense(actor=rep, customer=customer, order=order, amount=D("12.50"), category="gifts")

    assert list(selectors.sales_expenses_for(rep, order=order.pk)) == [expense]
    assert list(selectors.sales_expenses_for(rep, customer=customer.pk)) == [expense]
