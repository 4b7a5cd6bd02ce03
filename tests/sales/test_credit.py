"""Credit approval (授信审批): an order that would take receivables strictly above the credit limit,
or one for a customer whose credit is frozen, waits for a manager; the credit-limit warning is
checked live after every order and payment."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

from guanxi.core.locking import StaleVersion
from guanxi.customers.models import CustomerEvent
from guanxi.engagement.models import Task
from guanxi.insights import services as insights
from guanxi.insights.models import Warning
from guanxi.sales import selectors, services
from guanxi.sales.models import CreditApproval, Order
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def order(customer, actor, product, quantity=1, unit_price=None, **kwargs):
    line = {"product": product, "quantity": quantity}
    if unit_price is not None:
        line["unit_price"] = unit_price
    return services.create_order(customer=customer, lines=[line], actor=actor, **kwargs)


@pytest.fixture
def owes_900(customer, rep, tea):
    """The customer (limit 1,000.00) owes 900.00."""
    return order(customer, rep, tea, quantity=9)


def test_an_order_taking_receivables_exactly_to_the_limit_is_confirmed(owes_900, customer, rep, tea):
    placed = order(customer, rep, tea)  # 900.00 + 100.00 = 1,000.00
    assert placed.status == Order.Status.CONFIRMED
    assert not CreditApproval.objects.exists()


def test_an_order_one_cent_over_the_limit_is_held_for_approval(owes_900, customer, rep, tea):
    placed = order(customer, rep, tea, unit_price="100.01")
    assert placed.status == Order.Status.CREDIT_HOLD
    approval = placed.credit_approval
    assert (approval.reason, approval.receivable, approval.credit_limit, approval.order_total) == (
        CreditApproval.Reason.OVER_LIMIT, D("900.00"), D("1000.00"), D("100.01"))
    assert selectors.receivables_for(rep, customer.pk).balance == D("900.00")  # not billed
    assert CustomerEvent.objects.filter(customer=customer, verb="order_credit_hold").exists()


def test_a_draft_confirmed_over_the_limit_is_held(owes_900, customer, rep, tea):
    draft = order(customer, rep, tea, quantity=2, status=Order.Status.DRAFT)
    confirmed = services.confirm_order(order=draft, actor=rep, expected_version=draft.version)
    assert confirmed.status == Order.Status.CREDIT_HOLD


def test_a_customer_without_a_credit_limit_is_never_held(rep, tea):
    cash_customer = make_customer(rep, name="现款客户")
    assert order(cash_customer, rep, tea, quantity=100).status == Order.Status.CONFIRMED


@pytest.fixture
def held(owes_900, customer, rep, tea):
    return order(customer, rep, tea, quantity=2)


def test_a_manager_approves_a_held_order_and_it_is_billed(held, customer, manager, rep):
    approved = services.approve_credit(order=held, actor=manager, expected_version=held.version, note="老客户，月底付款")
    assert approved.status == Order.Status.CONFIRMED
    approval = CreditApproval.objects.get(order=held)
    assert approval.decision == CreditApproval.Decision.APPROVED and approval.decided_by == manager
    assert approval.decided_at is not None and approval.note == "老客户，月底付款"
    assert selectors.receivables_for(rep, customer.pk).balance == D("1100.00")
    assert CustomerEvent.objects.filter(customer=customer, verb="order_credit_approved", actor=manager).exists()


def test_a_sales_rep_cannot_approve_their_own_held_order(held, rep):
    with pytest.raises(PermissionDenied):
        services.approve_credit(order=held, actor=rep, expected_version=held.version)
    held.refresh_from_db()
    assert held.status == Order.Status.CREDIT_HOLD


def test_a_manager_rejects_a_held_order_with_a_reason(held, customer, manager):
    rejected = services.reject_credit(order=held, actor=manager, expected_version=held.version, reason="欠款未清")
    assert rejected.status == Order.Status.CANCELLED
    approval = CreditApproval.objects.get(order=held)
    assert approval.decision == CreditApproval.Decision.REJECTED and approval.note == "欠款未清"
    event = CustomerEvent.objects.get(customer=customer, verb="order_credit_rejected")
    assert "欠款未清" in event.summary


def test_rejecting_needs_a_reason(held, manager):
    with pytest.raises(ValidationError) as error:
        services.reject_credit(order=held, actor=manager, expected_version=held.version, reason=" ")
    assert "reason" in error.value.message_dict


def test_approving_a_stale_version_is_refused(held, manager):
    with pytest.raises(StaleVersion):
        services.approve_credit(order=held, actor=manager, expected_version=held.version - 1)


def test_a_held_order_takes_no_payment(held, customer, rep):
    with pytest.raises(ValidationError) as error:
        services.record_payment(customer=customer, order=held, amount=D("10.00"), actor=rep)
    assert "order" in error.value.message_dict


def test_cancelling_a_held_order_withdraws_it_from_the_queue(held, rep, manager):
    services.cancel_order(order=held, actor=rep, expected_version=held.version, reason="客户改单")
    assert not selectors.pending_credit_approvals(manager).exists()


# --- the live credit-limit warning -------------------------------------------------------------

def test_approving_over_the_limit_raises_the_credit_warning_once_with_a_collection_task(
        held, customer, manager, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_credit(order=held, actor=manager, expected_version=held.version)
    warning = Warning.objects.get(kind="credit_limit", customer=customer)
    assert warning.assignee == rep and warning.status == Warning.Status.OPEN
    assert Task.objects.filter(customer=customer, assignee=rep).count() == 1
    assert insights.evaluate_warnings(kinds=["credit_limit"])["credit_limit"] == 0  # the nightly run adds nothing


def test_a_payment_back_to_the_limit_resolves_the_credit_warning(held, customer, manager, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_credit(order=held, actor=manager, expected_version=held.version)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(customer=customer, order=held, amount=D("99.99"), actor=rep)  # owes 1,000.01
    assert Warning.objects.get(kind="credit_limit").status == Warning.Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(customer=customer, order=held, amount=D("0.01"), actor=rep)  # owes 1,000.00
    warning = Warning.objects.get(kind="credit_limit")
    assert warning.status == Warning.Status.RESOLVED and warning.resolved_by is None
    assert gettext("receivables back under the limit") in warning.note


@pytest.mark.django_db(transaction=True)
def test_two_orders_placed_at_once_cannot_both_squeeze_under_the_limit(customer, rep, tea):
    """Each order of 600.00 fits the limit of 1,000.00 alone; together they do not: one waits."""
    import threading

    from django.db import connection

    errors, start = [], threading.Barrier(2)

    def place():
        try:
            start.wait()
            order(customer, rep, tea, quantity=6)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Order.objects.values_list("status", flat=True)) == [Order.Status.CONFIRMED, Order.Status.CREDIT_HOLD]
