"""Target lists in the browser: a manager reads a customer's insights on the 360 page (grade, CLV,
service policy, loaded after the page), opens a product's look-alikes and downloads the CSV export."""

import csv
import io
import os
from decimal import Decimal

import pytest

from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy, catalogue, shop  # noqa: F401 (fixtures)

SHOTS = os.environ.get("GX_SHOTS")  # a folder to save screenshots in, when looking at the pages


@pytest.fixture
def lookalike_data(rep, admin_user):
    """Tea, cups and a kettle; two kettle buyers who also buy tea and cups, a tea-and-cups customer who
    has no kettle yet (the look-alike), and a few cup buyers."""
    from guanxi.sales import services as sales

    tea = sales.create_product(actor=admin_user, sku="TEA", name="龙井茶", list_price=Decimal("100.00"), cost=Decimal("60.00"))
    cup = sales.create_product(actor=admin_user, sku="CUP", name="茶杯", list_price=Decimal("40.00"), cost=Decimal("15.00"))
    kettle = sales.create_product(actor=admin_user, sku="KET", name="电水壶", list_price=Decimal("250.00"), cost=Decimal("180.00"))
    for name, products in (("水壶买家甲", (tea, cup, kettle)), ("水壶买家乙", (tea, cup, kettle)), ("相似客户", (tea, cup)),
                           ("杯子客户1", (cup,)), ("杯子客户2", (cup,))):
        customer = make_customer(rep, name=name, state="current")
        for product in products:
            buy(customer, rep, product, AS_OF)
    return {"kettle": kettle}


@pytest.fixture
def key_customer(shop, manager):  # noqa: F811
    from guanxi.insights import services
    from guanxi.insights.models import CustomerScore

    services.run_scoring(as_of=AS_OF, actor=manager)
    return (CustomerScore.objects.filter(run__is_current=True, grade="key", clv__isnull=False, customer__owner__team=manager.team)
            .select_related("customer").order_by("-profit").first())


def test_a_manager_reads_a_customers_grade_clv_and_service_policy_on_the_360_page(open_page, manager, key_customer):
    score = key_customer
    page = open_page(manager)
    page.goto(f"/customers/{score.customer_id}/")
    section = page.locator("#insights")
    section.get_by_test_id("scores").get_by_text("Key customer", exact=True).wait_for()
    assert f"{score.clv:,.2f}" in section.inner_text()
    policy = section.get_by_test_id("policy").inner_text()
    assert "Account manager" in policy and "at least every 30 days" in policy and "Next contact due" in policy
    section.get_by_text("Cross-sell").wait_for()  # the suggestions load last
    if SHOTS:
        section.screenshot(path=os.path.join(SHOTS, "targets-360.png"))


def test_a_manager_downloads_a_products_look_alikes_as_csv(open_page, manager, lookalike_data):
    from guanxi.insights.models import CustomerExport

    page = open_page(manager)
    page.goto("/products/")
    page.locator("tr", has_text="电水壶").get_by_role("link", name="Look-alikes").click()
    page.wait_for_url(f"**/insights/products/{lookalike_data['kettle'].pk}/lookalikes/")
    first = page.get_by_test_id("targets").locator("tbody tr").first
    assert "相似客户" in first.inner_text()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "targets-lookalikes.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert rows and "相似客户" in {r["name"] for r in rows}
    record = CustomerExport.objects.get()
    assert (record.user_id, record.rows, record.filters["lookalikes_of"]) == (manager.pk, len(rows), lookalike_data["kettle"].pk)


def test_a_manager_exports_the_prospects_and_an_administrator_finds_it_in_the_export_log(open_page, manager, admin_user, rep,
                                                                                        key_customer):
    for index in range(3):
        make_customer(rep, name=f"潜在客户{index}", state="potential")
    page = open_page(manager)
    page.goto("/insights/")
    page.get_by_role("link", name="Prospects").click()
    page.wait_for_url("**/insights/prospects/")
    listed = page.get_by_test_id("targets").locator("tbody tr")
    assert listed.count() >= 3 and "潜在客户0" in page.get_by_test_id("targets").inner_text()
    assert page.get_by_role("link", name="Export log").count() == 0  # managers export; administrators read the log
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "targets-prospects.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    admin = open_page(admin_user)
    admin.goto("/insights/")
    admin.get_by_role("link", name="Export log").click()
    row = admin.get_by_test_id("exports").locator("tbody tr").first
    assert manager.username in row.inner_text() and "prospects=True" in row.inner_text()
    assert row.locator("td.num").inner_text() == str(listed.count())
    if SHOTS:
        admin.screenshot(path=os.path.join(SHOTS, "targets-exports.png"), full_page=True)
