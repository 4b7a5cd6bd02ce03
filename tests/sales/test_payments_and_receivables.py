"""Payments are allocated without overpaying; receivables, overdue orders, aging and credit use follow."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.customers.models import PaymentTerms
from guanxi.sales import selectors, services
from guanxi.sales.models import Order, Payment
from tests.factories import make_customer

D = Decimal
TODAY = datetime.date(2026, 6, 30)


def order_for(customer, actor, product, *, days_ago: int, quantity="1"):
    return services.create_order(customer=customer, actor=actor, order_date=TODAY - datetime.timedelta(days=days_ago),
                                 lines=[{"product": product, "quantity": D(quantity)}])


def test_a_payment_against_an_order_reduces_its_balance(rep, customer, tea):
    order = order_for(customer, rep, tea, days_ago=1, quantity="2")

    services.record_payment(customer=customer, order=order, amount=D("150.00"), actor=rep)

    order.refresh_from_db()
    assert order.amount_paid == D("150.00")
    assert order.balance == order.total - D("150.00")


def test_overpaying_an_order_is_refused_and_nothing_changes(rep, customer, tea):
    order = order_for(customer, rep, tea, days_ago=1)

    with pytest.raises(ValidationError) as error:
        services.record_payment(customer=customer, order=order, amount=order.total + D("0.01"), actor=rep)

    assert "amount" in error.value.message_dict
    order.refresh_from_db()
    assert order.amount_paid == 0
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", [D("0"), D("-5.00"), D("1.005"), D("1e13"), "abc", D("NaN")])
def test_invalid_amounts_are_refused_naming_the_amount(rep, customer, amount):
    with pytest.raises(ValidationError) as error:
        services.record_payment(customer=customer, amount=amount, actor=rep)
    assert "amount" in error.value.message_dict


def test_a_payment_cannot_go_to_another_customers_order(rep, customer, tea):
    other = make_customer(rep)
    order = order_for(other, rep, tea, days_ago=1)

    with pytest.raises(ValidationError) as error:
        services.record_payment(customer=customer, order=order, amount=D("1.00"), actor=rep)
    assert "order" in error.value.message_dict


def test_receivables_are_billed_orders_minus_every_payment(rep, customer, tea):
    first = order_for(customer, rep, tea, days_ago=5, quantity="3")
    second = order_for(customer, rep, tea, days_ago=2)
    cancelled = order_for(customer, rep, tea, days_ago=2)
    services.cancel_order(order=cancelled, actor=rep, expected_version=cancelled.version)
    services.record_payment(customer=customer, order=first, amount=D("120.00"), actor=rep)
    services.record_payment(customer=customer, amount=D("30.00"), actor=rep)  # on account

    owed = selectors.receivables_for(rep, customer.pk, today=TODAY)

    assert owed.billed == first.total + second.total
    assert owed.paid == D("150.00")
    assert owed.unallocated == D("30.00")
    assert owed.balance == first.total + second.total - D("150.00")


def test_overdue_orders_and_aging_count_days_past_the_due_date(rep, tea):
    customer = make_customer(rep, payment_terms=PaymentTerms.NET, payment_days=30)
    not_due = order_for(customer, rep, tea, days_ago=10)          # due in 20 days
    late_10 = order_for(customer, rep, tea, days_ago=40)          # 10 days late
    late_45 = order_for(customer, rep, tea, days_ago=75)          # 45 days late
    late_100 = order_for(customer, rep, tea, days_ago=130)        # 100 days late
    paid_up = order_for(customer, rep, tea, days_ago=200)
    services.record_payment(customer=customer, order=paid_up, amount=paid_up.total, actor=rep)

    owed = selectors.receivables_for(rep, customer.pk, today=TODAY)

    assert [(o.number, o.days_overdue) for o in owed.overdue] == [
        (late_100.number, 100), (late_45.number, 45), (late_10.number, 10),
    ]
    assert owed.aging == {"current": not_due.total, "1-30": late_10.total, "31-60": late_45.total,
                          "61-90": D("0.00"), "90+": late_100.total}
    assert owed.overdue_total == late_10.total + late_45.total + late_100.total


def test_receivables_over_the_credit_limit_are_flagged(rep, manager, tea):
    customer = make_customer(rep, credit_limit=D("250.00"))
    order_for(customer, rep, tea, days_ago=1, quantity="2")
    assert not selectors.receivables_for(rep, customer.pk, today=TODAY).over_credit_limit

    held = order_for(customer, rep, tea, days_ago=1)  # would go over: a manager grants the credit
    services.approve_credit(order=held, actor=manager, expected_version=held.version)

    owed = selectors.receivables_for(rep, customer.pk, today=TODAY)
    assert owed.over_credit_limit
    assert owed.available_credit == D("0.00")


def test_another_reps_receivables_are_not_found(rep, other_rep, customer):
    with pytest.raises(type(customer).DoesNotExist):
        selectors.receivables_for(other_rep, customer.pk)


def test_payment_on_a_cancelled_order_is_refused(rep, customer, tea):
    order = order_for(customer, rep, tea, days_ago=1)
    services.cancel_order(order=order, actor=rep, expected_version=order.version)

    with pytest.raises(ValidationError):
        services.record_payment(customer=customer, order=Order.objects.get(pk=order.pk), amount=D("1.00"), actor=rep)
