"""Insights in the browser: a manager runs scoring and watches it finish, opens the pyramid and
clicks through to the key customers, resolves a warning; screenshots of the insights pages."""

import threading
from decimal import Decimal

import pytest

from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

LANGUAGES = ("en", "zh-hans")
DEVICES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture
def insights_data(rep, manager, admin_user):
    """Two products, a dozen of the rep's customers with orders, one over its credit limit."""
    from guanxi.sales import services as sales

    tea = sales.create_product(actor=admin_user, sku="TEA", name="龙井茶", list_price=Decimal("100.00"), cost=Decimal("60.00"))
    cup = sales.create_product(actor=admin_user, sku="CUP", name="茶杯", list_price=Decimal("40.00"), cost=Decimal("15.00"))
    for index in range(12):
        customer = make_customer(rep, name=f"客户{index:02d}")
        for month in range(index % 4 + 1):
            buy(customer, rep, tea if month % 2 else cup, AS_OF.replace(month=month + 1, day=15), quantity=index + 1, paid=index != 0)
        if index == 0:  # a limit granted after the purchases, so the orders were not held for approval
            from guanxi.customers.models import Customer

            Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("10.00"))
    return {"tea": tea}


def serve_bulk_queue_once():
    from django.db import connections

    from guanxi.core import jobs

    try:
        jobs.RetryingWorker(queue_names=["bulk"], interval=0, batch=True, backend_name="default", startup_delay=False,
                            max_tasks=None, worker_id="e2e-worker", excluded_queue_names=[]).run()
    finally:
        connections.close_all()


def test_a_manager_runs_scoring_and_clicks_through_the_pyramid_to_key_customers(open_page, manager, insights_data):
    page = open_page(manager)
    page.goto("/insights/")
    page.get_by_role("button", name="Score customers now").click()
    page.get_by_text("Scoring started").wait_for()
    # The worker scores while the page polls the run's progress.
    worker = threading.Thread(target=serve_bulk_queue_once)
    worker.start()
    worker.join()
    page.get_by_text("customers scored").wait_for(timeout=15_000)
    page.reload()
    pyramid = page.locator("#pyramid")
    pyramid.locator("[data-drawn] svg").wait_for()
    pyramid.get_by_text("Show as a table").click()  # the table folds away once the chart is drawn
    key_customers = int(pyramid.locator("tr[data-grade=key] a[data-count]").inner_text())
    pyramid.locator("tr[data-grade=key] a[data-count]").click()
    page.wait_for_url("**/insights/scores/?grade=key")
    assert page.locator("table.list tbody tr").count() == key_customers >= 1


def test_the_insights_charts_draw_and_a_click_on_the_pyramid_opens_its_customers(open_page, manager, insights_data):
    from guanxi.insights import services

    services.run_scoring(as_of=AS_OF, actor=manager)
    page = open_page(manager)
    page.goto("/insights/")
    for key in ("pyramid", "heatmap", "value", "behaviour", "clv", "stages"):
        chart = page.locator(f'[data-chart="chart-{key}-data"]')
        chart.locator("svg").wait_for()
        assert chart.get_attribute("data-drawn") == "1"
        # With the chart drawn, its table folds away (it stays open without JavaScript).
        assert chart.locator("xpath=ancestor::section[1]//details").get_attribute("open") is None
    # The key customers' bar (top row, profit side) is a link to them.
    point = page.evaluate("""() => {
        const el = document.querySelector('[data-chart="chart-pyramid-data"]');
        const chart = echarts.getInstanceByDom(el);
        const spec = JSON.parse(document.getElementById('chart-pyramid-data').textContent);
        const key = spec.rows[0];
        const [x, y] = chart.convertToPixel({seriesIndex: 1}, [Math.max(key.profit_share, 4) / 2, key.label]);
        const box = el.getBoundingClientRect();
        return {x: box.left + x, y: box.top + y};
    }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/insights/scores/?grade=key")


def test_the_grade_moves_and_kpis_pages_draw_without_errors(open_page, manager, insights_data):
    from guanxi.insights import services

    services.run_scoring(as_of=AS_OF, actor=manager)
    page = open_page(manager)
    page.goto("/insights/kpis/?period=month&on=2026-04-15")
    page.locator('[data-chart="chart-kpi-data"] svg').wait_for()
    assert page.locator("[data-kpi=buying]").inner_text() != "0"
    page.goto("/insights/grades/")
    page.get_by_role("heading", name="Grade moves").wait_for()


def test_a_rep_resolves_a_warning_in_the_inbox(open_page, rep, insights_data):
    from guanxi.insights import services
    from guanxi.insights.models import Warning

    services.evaluate_warnings(as_of=AS_OF, kinds=["credit_limit"])
    page = open_page(rep)
    page.goto("/insights/warnings/")
    row = page.locator("table.list tbody tr").first
    row.get_by_role("textbox").fill("客户已付款")
    row.get_by_role("button", name="Resolve").click()
    page.get_by_text("Warning updated.").wait_for()
    assert Warning.objects.get().status == "resolved"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", DEVICES)
def test_screenshots_of_the_insights_pages(open_page, screenshot, manager, insights_data, language, device):
    from guanxi.insights import services

    services.run_scoring(as_of=AS_OF, actor=manager)
    services.evaluate_warnings(as_of=AS_OF)
    manager.language = language
    manager.save(update_fields=["language"])
    page = open_page(manager, viewport=DEVICES[device], locale="zh-CN" if language == "zh-hans" else "en-GB")
    page.goto("/insights/")
    page.locator('[data-chart="chart-heatmap-data"] svg').wait_for()
    screenshot(page, "insights", language, device)
    page.locator("#value-matrix").scroll_into_view_if_needed()
    screenshot(page, "insights-matrices", language, device)
    page.goto("/insights/kpis/?period=month&on=2026-04-15")
    page.locator('[data-chart="chart-kpi-data"] svg').wait_for()
    screenshot(page, "insights-kpis", language, device)
    from guanxi.customers.models import Customer
    from guanxi.insights.models import GradeHistory, ScoringRun

    run = ScoringRun.objects.get(is_current=True)
    for customer, (was, now) in zip(Customer.objects.order_by("pk")[:4], [("normal", "key"), ("small", "normal"), ("key", "normal"),
                                                                          ("normal", "bad")], strict=True):
        GradeHistory.objects.create(customer=customer, from_grade=was, grade=now, run=run, on=AS_OF)
    page.goto("/insights/grades/")
    screenshot(page, "insights-grades", language, device)
    page.goto("/insights/warnings/?status=all")
    screenshot(page, "insights-warnings", language, device)
