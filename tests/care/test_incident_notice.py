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


@pytest.fixture
def kettle_buyers(admin_user, rep):
    """Buyers of the kettle's batches B202603 and B202604, and a tea buyer, in March and April 2026."""
    kettle = sales.create_product(actor=admin_user, sku="K-1", name="电水壶", list_price=Decimal("199"))
    tea = sales.create_product(actor=admin_user, sku="T-1", name="茶", list_price=Decimal("10"))
    buyers = {}
    for key, product, batch, day in [("march", kettle, "B202603", datetime.date(2026, 3, 5)),
                                     ("april", kettle, "B202604", datetime.date(2026, 4, 5)),
                                     ("march_late", kettle, "B202603", datetime.date(2026, 4, 20)),
                                     ("tea", tea, "B202603", datetime.date(2026, 3, 6))]:
        buyers[key] = make_customer(rep, email=f"{key}@example.com")
        sales.create_order(customer=buyers[key], actor=rep, order_date=day,
                           lines=[{"product": product.pk, "quantity": 1, "batch": batch}])
    return kettle, tea, buyers


def told(notice) -> set[int]:
    return set(notice.recipients.values_list("customer_id", flat=True))


def test_every_buyer_of_a_batch_is_told_whenever_they_bought_it(admin_user, kettle_buyers):
    kettle, _tea, buyers = kettle_buyers
    notice = services.send_incident_notice(actor=admin_user, product=kettle, batch=" B202603 ", subject="B202603 批次召回",
                                           message="该批次电水壶存在隐患。")
    assert notice.batch == "B202603"
    assert told(notice) == {buyers["march"].pk, buyers["march_late"].pk}
    assert CustomerEvent.objects.filter(verb="incident_notice", summary="B202603 批次召回").count() == 2
    assert OutboundEmail.objects.filter(about=f"incident:{notice.pk}").count() == 2


def test_a_batch_and_a_period_together_narrow_the_buyers(admin_user, kettle_buyers):
    kettle, _tea, buyers = kettle_buyers
    notice = services.send_incident_notice(actor=admin_user, product=kettle, batch="B202603", bought_from=datetime.date(2026, 3, 1),
                                           bought_to=datetime.date(2026, 3, 31), subject="通知", message="请留意。")
    assert told(notice) == {buyers["march"].pk}


def test_a_period_alone_reaches_every_buyer_in_it(admin_user, kettle_buyers):
    _kettle, _tea, buyers = kettle_buyers
    notice = services.send_incident_notice(actor=admin_user, bought_from=datetime.date(2026, 3, 1), bought_to=datetime.date(2026, 3, 31),
                                           subject="三月订单配送延误", message="抱歉。")
    assert told(notice) == {buyers["march"].pk, buyers["tea"].pk}


def test_the_notice_email_names_the_batch(admin_user, kettle_buyers):
    kettle, _tea, _buyers = kettle_buyers
    notice = services.send_incident_notice(actor=admin_user, product=kettle, batch="B202604", subject="召回", message="请停止使用。")
    mail = OutboundEmail.objects.get(about=f"incident:{notice.pk}")
    assert "B202604" in mail.body and "电水壶" in mail.body


@pytest.mark.parametrize(("fields", "field"), [
    ({"batch": "B202603"}, "batch"),  # a batch without its product
    ({}, "product"),  # nobody chosen
    ({"bought_from": datetime.date(2026, 4, 1), "bought_to": datetime.date(2026, 3, 1)}, "bought_to"),
])
def test_a_notice_without_a_clear_audience_is_refused_and_nobody_is_told(admin_user, kettle_buyers, fields, field):
    from django.core.exceptions import ValidationError

    from guanxi.care.models import IncidentNotice
    with pytest.raises(ValidationError) as error:
        services.send_incident_notice(actor=admin_user, subject="通知", message="内容", **fields)
    assert field in error.value.message_dict
    assert not IncidentNotice.objects.exists() and not OutboundEmail.objects.exists()
