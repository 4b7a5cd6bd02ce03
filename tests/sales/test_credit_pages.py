"""The credit pages through the test client: the rep sees why an order is held, the manager's
approval queue (query count pinned) and buttons, the reject dialog, the order form's warning,
and the case stage and freeze on the receivables and customer pages."""

import datetime
from decimal import Decimal as D

import pytest
from django.test import Client

from guanxi.sales import services
from guanxi.sales.models import CollectionCase, Order

pytestmark = pytest.mark.django_db

QUEUE_MAX_QUERIES = 12
RECEIVABLES_MAX_QUERIES = 14


def signed_in(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def held_order(customer, rep, tea, quantity=11):
    return services.create_order(customer=customer, lines=[{"product": tea, "quantity": quantity}], actor=rep)


def test_the_rep_sees_why_the_order_is_held_and_no_approve_button(customer, rep, tea):
    order = held_order(customer, rep, tea)
    body = signed_in(rep).get(f"/orders/{order.pk}/").content.decode()
    assert "Awaiting credit approval" in body and "1,000.00" in body and "1,100.00" in body
    assert "Approve credit" not in body and "/reject-credit/" not in body


def test_placing_an_order_over_the_limit_from_the_form_says_it_waits(customer, rep, tea):
    response = signed_in(rep).post("/orders/new/", {
        "customer": customer.pk, "status": "confirmed", "product": [tea.pk], "quantity": ["11"], "unit_price": [""], "batch": [""],
    }, follow=True)
    assert Order.objects.get().status == Order.Status.CREDIT_HOLD
    assert "waits for a manager&#x27;s credit approval" in response.content.decode()


def test_the_order_form_warns_before_submitting(customer, rep, tea):
    services.create_order(customer=customer, lines=[{"product": tea, "quantity": 9}], actor=rep)
    body = signed_in(rep).get("/orders/credit/", {"customer": customer.pk}).content.decode()
    assert "Receivables 900.00 of a credit limit of 1,000.00" in body and "above 100.00" in body


def test_the_order_form_warns_of_a_frozen_customer(customer, rep, tea):
    order = services.create_order(customer=customer, lines=[{"product": tea, "quantity": 3}], actor=rep,
                                  order_date=datetime.date(2026, 1, 5))
    services.escalate_collections(today=order.due_date + datetime.timedelta(days=45))
    body = signed_in(rep).get(f"/orders/new/?customer={customer.pk}").content.decode()
    assert "Credit frozen" in body and "wait for a manager" in body


def test_the_manager_approves_from_the_queue(customer, rep, manager, tea):
    order = held_order(customer, rep, tea)
    client = signed_in(manager)
    assert order.number in client.get("/orders/approvals/").content.decode()
    response = client.post(f"/orders/{order.pk}/approve-credit/", {"version": order.version, "next": "/orders/approvals/"})
    assert response.status_code == 302 and response["Location"] == "/orders/approvals/"
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_a_rep_posting_an_approval_is_refused(customer, rep, tea):
    order = held_order(customer, rep, tea)
    assert signed_in(rep).post(f"/orders/{order.pk}/approve-credit/", {"version": order.version}).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.CREDIT_HOLD


def test_the_reject_dialog_asks_for_a_reason_before_cancelling(customer, rep, manager, tea):
    order = held_order(customer, rep, tea)
    client = signed_in(manager)
    dialog = client.get(f"/orders/{order.pk}/reject-credit/", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="reason"' in dialog and "<html" not in dialog
    assert client.post(f"/orders/{order.pk}/reject-credit/", {"version": order.version, "reason": ""}).status_code == 422
    order.refresh_from_db()
    assert order.status == Order.Status.CREDIT_HOLD
    client.post(f"/orders/{order.pk}/reject-credit/", {"version": order.version, "reason": "欠款过多"})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_the_queue_query_count_is_pinned_and_does_not_grow(customer, rep, manager, tea, django_assert_max_num_queries):
    from tests.factories import make_customer

    client = signed_in(manager)
    held_order(customer, rep, tea)
    with django_assert_max_num_queries(QUEUE_MAX_QUERIES) as few:
        client.get("/orders/approvals/")
    for index in range(5):
        other = make_customer(rep, name=f"赊账{index}", credit_limit=D("100.00"))
        held_order(other, rep, tea, quantity=2)
    with django_assert_max_num_queries(QUEUE_MAX_QUERIES) as many:
        body = client.get("/orders/approvals/").content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert body.count("data-order=") == 6


def test_the_orders_subnav_shows_the_manager_the_held_count_and_the_rep_no_link(customer, rep, manager, tea):
    held_order(customer, rep, tea)
    assert 'data-held-count>1<' in signed_in(manager).get("/orders/").content.decode()
    assert "/orders/approvals/" not in signed_in(rep).get("/orders/").content.decode()


def test_the_receivables_page_shows_the_stage_and_freeze_with_a_pinned_query_count(
        customer, rep, manager, tea, django_assert_max_num_queries):
    order = services.create_order(customer=customer, lines=[{"product": tea, "quantity": 3}], actor=rep,
                                  order_date=datetime.date(2026, 1, 5))
    services.escalate_collections(today=order.due_date + datetime.timedelta(days=45))
    client = signed_in(manager)
    with django_assert_max_num_queries(RECEIVABLES_MAX_QUERIES):
        body = client.get("/receivables/").content.decode()
    assert "Formal demand" in body and "Credit frozen" in body


def test_the_customer_page_shows_the_freeze_and_a_manager_lifts_it(customer, rep, manager, tea):
    order = services.create_order(customer=customer, lines=[{"product": tea, "quantity": 3}], actor=rep,
                                  order_date=datetime.date(2026, 1, 5))
    services.escalate_collections(today=order.due_date + datetime.timedelta(days=45))
    rep_view = signed_in(rep).get(f"/customers/{customer.pk}/").content.decode()
    assert "badge frozen" in rep_view and "/lift-freeze/" not in rep_view
    client = signed_in(manager)
    assert "/lift-freeze/" in client.get(f"/customers/{customer.pk}/").content.decode()
    client.post(f"/receivables/customers/{customer.pk}/lift-freeze/", {"note": "还款计划已签"})
    assert "badge frozen" not in client.get(f"/customers/{customer.pk}/").content.decode()


def test_a_manager_closes_the_case_from_the_customer_page(customer, rep, manager, tea):
    order = services.create_order(customer=customer, lines=[{"product": tea, "quantity": 3}], actor=rep,
                                  order_date=datetime.date(2026, 1, 5))
    services.escalate_collections(today=order.due_date + datetime.timedelta(days=20))
    client = signed_in(manager)
    assert client.post(f"/receivables/customers/{customer.pk}/close-case/", {"note": ""}).status_code == 422
    client.post(f"/receivables/customers/{customer.pk}/close-case/", {"note": "已和解"})
    assert CollectionCase.objects.get(customer=customer).close_note == "已和解"
