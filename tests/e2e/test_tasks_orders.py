"""Tasks, orders, payments and the dashboard in a real browser."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from guanxi.accounts.models import Role
from guanxi.engagement import services as engagement
from guanxi.engagement.models import Task
from guanxi.sales import services as sales
from guanxi.sales.models import Order
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def rep(transactional_db):
    return make_user(Role.SALES, username="rep_orders")


@pytest.fixture
def customer(rep):
    return make_customer(rep, name="李明华")


@pytest.fixture
def products(transactional_db):
    admin = make_user(Role.ADMIN, username="admin_orders")
    return (
        sales.create_product(actor=admin, sku="TEA-1", name="龙井茶礼盒", list_price=Decimal("100.00"), cost=Decimal("60.00")),
        sales.create_product(actor=admin, sku="KET-1", name="电水壶", list_price=Decimal("249.90"), cost=Decimal("180.35")),
    )


def test_completing_an_overdue_task(open_page, rep, customer):
    task = engagement.create_task(title="回访李先生", actor=rep, assignee=rep, customer=customer,
                                  due_at=timezone.now() - datetime.timedelta(hours=3))
    page = open_page(rep)
    page.goto("/tasks/")
    overdue = page.locator("section.task-group.overdue")
    expect(overdue.get_by_text("回访李先生", exact=True)).to_be_visible()
    # When the rep ticks it off
    overdue.get_by_role("button", name=re.compile("Done")).click()
    # Then the row says so in place, and the task is done
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("Done: “回访李先生”.")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_entering_an_order_with_two_lines_and_recording_a_payment(open_page, rep, customer, products, watch):
    tea, kettle = products
    page = open_page(rep)
    page.goto("/orders/")
    page.get_by_role("link", name="New order").first.click()
    # The customer is found by pinyin initials and picked
    page.get_by_label("Find a customer").fill("lmh")
    expect(page.locator("#id_customer option", has_text="李明华")).to_have_count(1)
    page.locator("#id_customer").select_option(label="李明华")
    # First line: two gift boxes at list price (the price fills in when the product is chosen)
    first = page.locator("#lines tr").nth(0)
    expect(first).not_to_have_class(re.compile("htmx-added"))
    first.get_by_label("Product").select_option(str(tea.pk))
    expect(page.locator("#lines tr").nth(0).get_by_label("Unit price")).to_have_value("100.00")
    page.locator("#lines tr").nth(0).get_by_label("Quantity").fill("2")
    # Second line, added with htmx: one kettle at a negotiated price
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#lines tr")).to_have_count(2)
    expect(page.locator("#lines tr").nth(1)).not_to_have_class(re.compile("htmx-added"))  # htmx has wired the new row
    page.locator("#lines tr").nth(1).get_by_label("Product").select_option(str(kettle.pk))
    expect(page.locator("#lines tr").nth(1).get_by_label("Unit price")).to_have_value("249.90")
    page.locator("#lines tr").nth(1).get_by_label("Unit price").fill("239.90")
    page.get_by_role("button", name="Place order").click()
    # Then the order page shows the total the server worked out
    expect(page.locator("[data-order-total]")).to_contain_text("439.90")
    order = Order.objects.get(customer=customer)
    assert order.total == Decimal("439.90") and order.lines.count() == 2
    # When more than the balance is paid, it is refused with the reason (422: the form comes back)
    watch.expect_status(422)
    page.get_by_label("Amount").fill("500.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#record-payment .errorlist")).to_contain_text("would overpay")
    # When the right amount is paid, the balance is settled
    page.get_by_label("Amount").fill("439.90")
    page.get_by_label("Method").select_option("alipay")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".messages")).to_contain_text("Payment of 439.90 recorded.")
    expect(page.locator("[data-order-balance]")).to_have_text("0.00")
    order.refresh_from_db()
    assert order.amount_paid == Decimal("439.90")


def test_the_dashboard_draws_its_charts_without_console_errors(open_page, rep, customer, products):
    sales.create_order(customer=customer, lines=[{"product": products[0], "quantity": 3}], actor=rep)
    sales.create_opportunity(customer=customer, title="年会礼品", actor=rep, amount=Decimal("5000.00"))
    page = open_page(rep)
    page.goto("/")
    expect(page.locator("[data-chart][data-drawn] svg")).to_have_count(4)
    expect(page.locator('[data-kpi="revenue"]')).to_have_text("300.00")
    # The table fallback opens for people who cannot see the chart
    page.get_by_text("Show as a table").first.click()
    expect(page.get_by_role("cell", name="300.00").first).to_be_visible()


def test_logging_an_interaction_from_the_log_and_filtering_it(open_page, rep, customer):
    page = open_page(rep)
    page.goto("/interactions/")
    expect(page.get_by_text("No interactions yet")).to_be_visible()
    page.get_by_role("link", name="Log interaction").first.click()
    page.get_by_label("Find a customer").fill("明")
    page.locator("#id_customer").select_option(label="李明华")
    page.get_by_label("Channel").select_option("wechat")
    page.get_by_label("Direction").select_option("in")
    page.get_by_label("Subject").fill("询问年会礼品报价")
    page.get_by_role("button", name="Log interaction").click()
    expect(page.locator(".messages")).to_contain_text("Interaction with 李明华 logged.")
    row = page.locator("#interaction-results tbody tr").first
    expect(row).to_contain_text("询问年会礼品报价")
    expect(row).to_contain_text("WeChat")
    # Filtering by another channel hides it (htmx swaps the table in place)
    page.locator("form.filters").get_by_label("Channel").select_option("visit")
    expect(page.get_by_text("No interaction matches these filters")).to_be_visible()


@pytest.mark.parametrize("path", ["/products/", "/orders/", "/orders/new/", "/receivables/", "/tasks/?view=team",
                                  "/tasks/new/", "/interactions/new/", "/pipeline/"])
def test_every_workspace_page_loads_without_console_errors_or_failed_requests(open_page, rep, customer, products, path):
    sales.create_order(customer=customer, lines=[{"product": products[1], "quantity": 1}], actor=rep,
                       order_date=timezone.localdate() - datetime.timedelta(days=100))
    page = open_page(rep, viewport={"width": 375, "height": 812})
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    # Nothing wider than a phone except the scrolling kanban and tables
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
