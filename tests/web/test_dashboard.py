"""The dashboard: KPIs in the user's scope, chart data for charts.js, a pinned query count."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.customers.models import State
from guanxi.engagement import services as engagement
from guanxi.sales import services as sales
from guanxi.sales.models import PipelineStage
from guanxi.web.dashboard import dashboard_figures
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

DASHBOARD_MAX_QUERIES = 16


@pytest.fixture
def tea(admin_user):
    return sales.create_product(actor=admin_user, sku="TEA-1", name="龙井茶礼盒", list_price=Decimal("100.00"), cost=Decimal("60.00"))


def _book(owner, tea, *, customers=1, months_back=0):
    """Customers, each with a 200.00 order `months_back` months ago and a 1,000.00 deal."""
    day = timezone.localdate().replace(day=1) - datetime.timedelta(days=1) if months_back else timezone.localdate()
    for i in range(customers):
        customer = make_customer(owner, name=f"客户{owner.pk}-{months_back}-{i}", state=State.CURRENT)
        sales.create_order(customer=customer, lines=[{"product": tea, "quantity": 2}], actor=owner, order_date=day)
        sales.create_opportunity(customer=customer, title=f"商机{i}", actor=owner, amount=Decimal("1000.00"))


def _chart(body, key):
    found = re.search(rf'<script id="chart-{key}-data" type="application/json">(.*?)</script>', body, re.S)
    return json.loads(found.group(1))


def test_kpis_count_only_what_the_user_may_see(rep, other_rep, tea):
    # Given a rep with two customers this month and one last month, and another rep's book
    _book(rep, tea, customers=2)
    _book(rep, tea, customers=1, months_back=1)
    _book(other_rep, tea, customers=3)
    # When their figures are worked out
    figures = dashboard_figures(rep)
    # Then only the rep's own customers, revenue and pipeline count
    assert figures.customers_total == 3
    assert figures.by_state[State.CURRENT] == 3
    assert figures.revenue_this_month == Decimal("400.00")
    assert figures.revenue_last_month == Decimal("200.00")
    assert figures.pipeline_total == Decimal("3000.00")
    assert figures.pipeline_weighted == Decimal("300.00")  # Lead stage: 10 %
    assert figures.revenue_by_month[-1][1] == Decimal("400.00") and len(figures.revenue_by_month) == 12


def test_weighted_pipeline_keeps_its_cents(rep):
    customer = make_customer(rep, name="整数金额客户")
    qualified = PipelineStage.objects.get(name="Qualified")  # 25 %
    sales.create_opportunity(customer=customer, title="整数", actor=rep, amount=Decimal("2477.00"), stage=qualified)
    assert dashboard_figures(rep).pipeline_weighted == Decimal("619.25")


def test_overdue_tasks_and_customers_over_their_credit_limit(rep, manager, tea):
    customer = make_customer(rep, name="欠款客户", credit_limit=Decimal("100.00"))
    held = sales.create_order(customer=customer, lines=[{"product": tea, "quantity": 2}], actor=rep)
    sales.approve_credit(order=held, actor=manager, expected_version=held.version)  # owes 200.00 > 100.00
    make_customer(rep, name="无额度客户")  # no limit granted: never "over"
    engagement.create_task(title="过期任务", actor=rep, assignee=rep, due_at=timezone.now() - datetime.timedelta(days=1))
    figures = dashboard_figures(rep)
    assert figures.over_limit == 1
    assert figures.overdue_tasks == 1


def test_dashboard_page_passes_chart_data_as_json_with_table_fallbacks(browser_as, rep, tea):
    _book(rep, tea, customers=2)
    body = browser_as(rep, HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    revenue = _chart(body, "revenue")
    assert revenue["rows"][-1]["value"] == "400.00" and len(revenue["rows"]) == 12
    assert [row["label"] for row in _chart(body, "pipeline")["rows"]] == ["Lead"]
    assert sorted(row["value"] for row in _chart(body, "state")["rows"])[-1] == 2
    assert body.count("<details>") == 4
    assert "<script>" not in body  # CSP: no inline script, the data is inert JSON


def test_dashboard_query_count_is_pinned_and_does_not_grow_with_data(browser_as, rep, tea, django_assert_max_num_queries):
    client = browser_as(rep)
    _book(rep, tea, customers=1)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES) as few:
        assert client.get("/").status_code == 200
    _book(rep, tea, customers=15)
    _book(rep, tea, customers=5, months_back=1)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES) as many:
        assert client.get("/").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)
