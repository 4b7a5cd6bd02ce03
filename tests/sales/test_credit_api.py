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
