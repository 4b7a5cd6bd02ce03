"""Engagement fixtures: a customer of `rep` and a product to order."""

from decimal import Decimal

import pytest

from guanxi.sales import services as sales
from tests.factories import make_customer


@pytest.fixture
def customer(rep):
    return make_customer(rep, name="王芳")


@pytest.fixture
def tea(admin_user):
    return sales.create_product(actor=admin_user, sku="TEA-1", name="龙井茶礼盒", list_price=Decimal("100.00"), cost=Decimal("60.00"))
