"""Complaint statistics: what the figures mean, on small known data."""

import datetime

import pytest
from django.utils import timezone

from guanxi.engagement import services as engagement
from guanxi.engagement.models import Channel, Direction
from guanxi.service import services, statistics
from guanxi.service.models import Status
from tests.factories import make_customer
from tests.service.test_workflow import to_status

pytestmark = pytest.mark.django_db


def test_breakdowns_and_the_rate_per_thousand_customers(agent, rep, customer):
    # Given 4 customers, 2 complaints about delivery and 1 about billing
    for _ in range(3):
        make_customer(rep)
    for category in ["delivery", "delivery", "billing"]:
        services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE, category=category, description="x")
    figures = statistics.complaint_statistics(agent)
    # Then the rate is 3 complaints per 4 customers, from 1 complaining customer
    assert figures["total"] == 3
    assert figures["per_thousand_customers"] == 750.0 and figures["complainers_per_thousand"] == 250.0
    top = figures["by_category"][0]
    assert (top["value"], top["rate"]) == (2, 66.7)


def test_reopen_rate_and_satisfaction_with_the_handling(agent, service_manager, customer, service_department):
    # Given two notified complaints, one reopened (rated 2) and one resolved (rated 5)
    first = to_status(services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE, description="a"),
                      Status.NOTIFIED, agent, service_manager, service_department)
    services.record_customer_response(complaint=first, actor=agent, expected_version=first.version, satisfied=False, rating=2)
    second = to_status(services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE, description="b"),
                       Status.RESOLVED, agent, service_manager, service_department)
    figures = statistics.complaint_statistics(agent)
    assert figures["reopen_rate"] == 50.0
    assert figures["handling_rating"] == 3.5 and figures["handling_satisfied"] == 50.0
    assert figures["resolved_on_time"] == 100.0 and second.resolved_at <= second.resolve_due_at


def test_first_response_time_is_measured_on_every_inbound_enquiry(rep, customer):
    # Given an enquiry on a Monday at 10:00 answered at 12:00, and one never answered
    monday = timezone.make_aware(datetime.datetime(2025, 3, 10, 10))
    engagement.log_interaction(customer=customer, channel=Channel.WECHAT, direction=Direction.INBOUND, subject="价格?", actor=rep, occurred_at=monday)
    engagement.log_interaction(customer=customer, channel=Channel.PHONE, direction=Direction.OUTBOUND, subject="回电", actor=rep,
                               occurred_at=monday + datetime.timedelta(hours=2))
    other = make_customer(rep)
    engagement.log_interaction(customer=other, channel=Channel.EMAIL, direction=Direction.INBOUND, subject="发票", actor=rep,
                               occurred_at=monday + datetime.timedelta(hours=3))
    figures = statistics.first_response_times(rep, since=monday - datetime.timedelta(days=1))
    assert figures["enquiries"] == 2 and figures["unanswered"] == 1 and figures["median"] == 2.0


def test_retention_compares_resolved_complainers_with_customers_who_never_complained(agent, service_manager, rep, customer,
                                                                                      service_department, admin_user):
    from decimal import Decimal

    from guanxi.customers.models import Customer
    from guanxi.sales import services as sales
    from guanxi.sales.models import Order
    product = sales.create_product(actor=admin_user, sku="R-1", name="茶", list_price=Decimal("10"))
    # Given a complainer whose complaint was resolved and who then bought again
    to_status(services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE, description="a"),
              Status.RESOLVED, agent, service_manager, service_department)
    sales.create_order(customer=customer, actor=rep, lines=[{"product": product.pk, "quantity": 1}])
    # And two buyers from a year ago who never complained, one of whom bought again recently
    year_ago = timezone.now() - datetime.timedelta(days=365)
    for i in range(2):
        buyer = make_customer(rep)
        order = sales.create_order(customer=buyer, actor=rep, lines=[{"product": product.pk, "quantity": 1}])
        Order.objects.filter(pk=order.pk).update(created_at=year_ago)
        if i == 0:
            sales.create_order(customer=buyer, actor=rep, lines=[{"product": product.pk, "quantity": 1}])
    retention = statistics.complaint_statistics(agent)["retention"]
    assert retention["resolved_complainers"] == 1 and retention["resolved_retained"] == 100.0
    assert retention["never_complained"] == 2 and retention["never_retained"] == 50.0
    assert Customer.objects.count() == 3
