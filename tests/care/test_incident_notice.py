"""Incident notices reach every buyer of the product in the period once, on their timelines and by e-mail."""

import datetime
from decimal import Decimal

import pytest

from guanxi.care import services
from guanxi.customers.models import CustomerEvent
from guanxi.messaging.models import OutboundEmail
from guanxi.sales import services as sales
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_every_buyer_in_the_period_is_told_once(admin_user, rep):
    kettle = sales.create_product(actor=admin_user, sku="K-1", name="电水壶", list_price=Decimal("199"))
    tea = sales.create_product(actor=admin_user, sku="T-1", name="茶", list_price=Decimal("10"))
    twice = make_customer(rep, email="twice@example.com")
    late = make_customer(rep, email="late@example.com")
    other = make_customer(rep, email="tea@example.com")
    for customer, product, day in [(twice, kettle, 3), (twice, kettle, 5), (late, kettle, 40), (other, tea, 4)]:
        sales.create_order(customer=customer, actor=rep, lines=[{"product": product.pk, "quantity": 1}],
                           order_date=datetime.date(2026, 3, 1) + datetime.timedelta(days=day))
    notice = services.send_incident_notice(actor=admin_user, product=kettle, bought_from=datetime.date(2026, 3, 1),
                                           bought_to=datetime.date(2026, 3, 31), subject="电水壶召回通知", message="请停止使用，我们将免费更换。")
    assert list(notice.recipients.values_list("customer_id", flat=True)) == [twice.pk]
    assert OutboundEmail.objects.filter(about=f"incident:{notice.pk}").count() == 1
    assert CustomerEvent.objects.filter(customer=twice, verb="incident_notice").count() == 1
    assert not CustomerEvent.objects.filter(customer=late, verb="incident_notice").exists()
