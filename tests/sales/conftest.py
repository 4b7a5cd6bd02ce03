"""Sales fixtures: a small catalogue and the default pipeline (created by migration 0002)."""

from decimal import Decimal

import pytest

from guanxi.customers.models import PaymentTerms
from guanxi.sales import services
from guanxi.sales.models import PipelineStage
from tests.factories import make_customer


@pytest.fixture
def tea(admin_user):
    """List price 100.00, cost 60.00."""
    return services.create_product(actor=admin_user, sku="TEA-1", name="龙井茶礼盒", list_price=Decimal("100.00"), cost=Decimal("60.00"))


@pytest.fixture
def kettle(admin_user):
    """List price 249.90, cost 180.35."""
    return services.create_product(actor=admin_user, sku="KET-1", name="电水壶", list_price=Decimal("249.90"), cost=Decimal("180.35"))


@pytest.fixture
def customer(rep):
    return make_customer(rep, name="李明华", payment_terms=PaymentTerms.NET, payment_days=30, credit_limit=Decimal("1000.00"))


@pytest.fixture
def stages(db):
    return {s.name: s for s in PipelineStage.objects.all()}
