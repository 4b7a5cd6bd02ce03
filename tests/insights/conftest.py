"""Insights fixtures: a small shop whose customers buy through the real sales services."""

import datetime
import random
from decimal import Decimal

import pytest

from guanxi.accounts.models import User
from guanxi.sales import services as sales
from guanxi.sales.models import Order
from tests.factories import make_customer

AS_OF = datetime.date(2026, 6, 30)


@pytest.fixture
def catalogue(admin_user):
    """Three repeatable products and a one-off one (a wedding banquet)."""
    return {
        "tea": sales.create_product(actor=admin_user, sku="TEA", name="龙井茶", list_price=Decimal("100.00"), cost=Decimal("60.00")),
        "kettle": sales.create_product(actor=admin_user, sku="KET", name="电水壶", list_price=Decimal("250.00"), cost=Decimal("180.00"),
                                       replacement_cycle_days=365),
        "cup": sales.create_product(actor=admin_user, sku="CUP", name="茶杯", list_price=Decimal("40.00"), cost=Decimal("15.00")),
        "banquet": sales.create_product(actor=admin_user, sku="WED", name="婚宴", list_price=Decimal("8000.00"),
                                        cost=Decimal("5000.00"), is_one_off=True),
    }


def buy(customer, actor, product, day, quantity=1, unit_price=None, *, paid=True):
    """An order of one line, paid in full on the day unless `paid` is False."""
    line = {"product": product, "quantity": quantity}
    if unit_price is not None:
        line["unit_price"] = unit_price
    order = sales.create_order(customer=customer, lines=[line], actor=actor, order_date=day)
    if order.status == Order.Status.CREDIT_HOLD:  # over the credit limit: the shop's administrator grants it
        approver = User.objects.filter(is_superuser=True).first()
        order = sales.approve_credit(order=order, actor=approver, expected_version=order.version)
    if paid:
        sales.record_payment(customer=customer, amount=order.total, actor=actor, order=order, paid_on=day)
    return order


@pytest.fixture
def shop(rep, other_rep, catalogue):
    """24 customers with seeded random purchase histories over two years before AS_OF, split
    between two reps; customer 3 never pays (a bad debtor); one customer bought only a wedding banquet."""
    rng = random.Random(7)
    customers = []
    for index in range(24):
        owner = rep if index % 2 == 0 else other_rep
        customer = make_customer(owner, name=f"客户{index:02d}")
        day = AS_OF - datetime.timedelta(days=rng.randint(60, 700))
        rate = rng.uniform(10, 90)
        while day <= AS_OF:
            product = rng.choice([catalogue["tea"], catalogue["kettle"], catalogue["cup"]])
            buy(customer, owner, product, day, quantity=rng.randint(1, 5), paid=index != 3)
            if rng.random() < 0.2:
                break
            day += datetime.timedelta(days=int(rng.expovariate(1 / rate)) + 1)
        customers.append(customer)
    banquet_only = make_customer(rep, name="婚宴客户")
    buy(banquet_only, rep, catalogue["banquet"], AS_OF - datetime.timedelta(days=100))
    customers.append(banquet_only)
    return customers
