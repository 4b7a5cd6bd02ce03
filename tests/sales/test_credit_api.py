"""The credit-approval API: list the held orders, approve, reject — 403 for a rep, 404 for an
order one cannot see, 409 for a stale version."""

import pytest

from guanxi.sales import services
from guanxi.sales.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(customer, rep, tea):
    return services.create_order(customer=customer, lines=[{"product": tea, "quantity": 11}], actor=rep)


def test_the_queue_lists_held_orders_with_receivable_limit_and_total(held, manager, api_as):
    body = api_as(manager).get("/credit-approvals").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["order_number"], item["current_receivable"], item["credit_limit"], item["order_total"]) == (
        held.number, "0.00", "1000.00", "1100.00")


def test_an_invisible_customers_held_order_is_not_listed(held, other_rep, api_as):
    assert api_as(other_rep).get("/credit-approvals").json()["count"] == 0


def test_a_manager_approves_through_the_api(held, manager, api_as):
    response = api_as(manager).post(f"/orders/{held.pk}/approve-credit", {"version": held.version, "note": "同意"})
    assert response.status_code == 200 and response.json()["status"] == "confirmed"


def test_a_rep_approving_through_the_api_gets_403(held, rep, api_as):
    assert api_as(rep).post(f"/orders/{held.pk}/approve-credit", {"version": held.version}).status_code == 403


def test_approving_an_invisible_order_is_404(held, other_rep, api_as):
    assert api_as(other_rep).post(f"/orders/{held.pk}/approve-credit", {"version": held.version}).status_code == 404


def test_approving_a_stale_version_is_409(held, manager, api_as):
    assert api_as(manager).post(f"/orders/{held.pk}/approve-credit", {"version": held.version + 1}).status_code == 409
    held.refresh_from_db()
    assert held.status == Order.Status.CREDIT_HOLD


def test_a_manager_rejects_through_the_api_with_a_reason(held, manager, api_as):
    response = api_as(manager).post(f"/orders/{held.pk}/reject-credit", {"version": held.version, "reason": "欠款未清"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_rejecting_without_a_reason_is_422(held, manager, api_as):
    assert api_as(manager).post(f"/orders/{held.pk}/reject-credit", {"version": held.version, "reason": ""}).status_code == 422


def test_rejecting_an_invisible_order_is_404(held, other_rep, api_as):
    assert api_as(other_rep).post(f"/orders/{held.pk}/reject-credit", {"version": held.version, "reason": "x"}).status_code == 404


def test_rejecting_a_stale_version_is_409(held, manager, api_as):
    assert api_as(manager).post(f"/orders/{held.pk}/reject-credit", {"version": held.version + 1, "reason": "x"}).status_code == 409


def test_approving_an_order_that_is_not_held_is_422(customer, rep, manager, tea, api_as):
    placed = services.create_order(customer=customer, lines=[{"product": tea}], actor=rep)
    assert api_as(manager).post(f"/orders/{placed.pk}/approve-credit", {"version": placed.version}).status_code == 422


@pytest.fixture
def frozen(customer, rep, tea):
    """An unpaid order of 300.00 on net 30 days, 45 days overdue: formal demand, credit frozen."""
    import datetime

    placed = services.create_order(customer=customer, lines=[{"product": tea, "quantity": 3}], actor=rep,
                                   order_date=datetime.date(2026, 1, 5))
    services.escalate_collections(today=placed.due_date + datetime.timedelta(days=45))
    return customer


def test_a_manager_lifts_a_freeze_through_the_api_with_a_note(frozen, manager, api_as):
    from guanxi.sales.selectors import credit_standing

    assert api_as(manager).post(f"/customers/{frozen.pk}/credit-freeze/lift", {"note": ""}).status_code == 422
    assert credit_standing(frozen.pk).frozen
    assert api_as(manager).post(f"/customers/{frozen.pk}/credit-freeze/lift", {"note": "已签还款计划"}).status_code == 204
    assert not credit_standing(frozen.pk).frozen
    # lifting again: the credit is no longer frozen
    assert api_as(manager).post(f"/customers/{frozen.pk}/credit-freeze/lift", {"note": "再次"}).status_code == 422


def test_a_rep_cannot_lift_a_freeze_or_close_a_case_through_the_api(frozen, rep, api_as):
    from guanxi.sales.models import CollectionCase

    assert api_as(rep).post(f"/customers/{frozen.pk}/credit-freeze/lift", {"note": "自己解冻"}).status_code == 403
    assert api_as(rep).post(f"/customers/{frozen.pk}/collection-case/close", {"note": "自己关闭"}).status_code == 403
    assert CollectionCase.objects.filter(customer=frozen, closed_at__isnull=True).exists()


def test_a_manager_closes_a_case_through_the_api_and_an_invisible_customer_is_404(frozen, manager, other_rep, api_as):
    from guanxi.sales.models import CollectionCase

    assert api_as(other_rep).post(f"/customers/{frozen.pk}/collection-case/close", {"note": "x"}).status_code == 404
    assert api_as(manager).post(f"/customers/{frozen.pk}/collection-case/close", {"note": "坏账核销"}).status_code == 204
    assert not CollectionCase.objects.filter(customer=frozen, closed_at__isnull=True).exists()
    assert api_as(manager).post(f"/customers/{frozen.pk}/collection-case/close", {"note": "again"}).status_code == 404
