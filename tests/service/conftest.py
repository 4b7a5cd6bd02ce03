"""Service fixtures: a customer with an e-mail address, a product, a service department with its manager."""

from decimal import Decimal

import pytest

from guanxi.sales import services as sales
from tests.factories import make_customer, make_department, make_user
from tests.smtp import smtp_server, smtp_server_down  # noqa: F401 - fixtures


@pytest.fixture
def customer(rep):
    return make_customer(rep, name="王芳", email="wangfang@example.com", phone="13812345678")


@pytest.fixture
def service_department(db):
    return make_department("客户服务部")


@pytest.fixture
def agent(service_department):
    return make_user("service", username="agent_li", email="li@example.com", department=service_department)


@pytest.fixture
def service_manager(service_department):
    return make_user("manager", username="manager_zhao", email="zhao@example.com", department=service_department)


@pytest.fixture
def kettle(admin_user):
    return sales.create_product(actor=admin_user, sku="KET-1", name="电水壶", list_price=Decimal("199.00"), cost=Decimal("80.00"))
