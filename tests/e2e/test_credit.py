"""Credit approval in a real browser: a rep places an order over the customer's credit limit and
sees it held; the manager approves it from the approval queue."""

import os
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from guanxi.accounts.models import Role
from guanxi.sales import services as sales
from guanxi.sales.models import Order
from tests.factories import make_customer, make_team, make_user

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("GUANXI_CREDIT_SHOTS")  # a folder to save screenshots in, when looking at the pages


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def people(transactional_db):
    team = make_team("华东组")
    return make_user(Role.SALES, username="rep_credit", team=team), make_user(Role.MANAGER, username="mgr_credit", team=team)


@pytest.fixture
def tea(transactional_db):
    admin = make_user(Role.ADMIN, username="admin_credit")
    return sales.create_product(actor=admin, sku="TEA-1", name="龙井茶礼盒", list_price=Decimal("100.00"), cost=Decimal("60.00"))


def test_a_rep_order_over_the_limit_is_held_and_the_manager_approves_it_from_the_queue(open_page, people, tea):
    rep, manager = people
    customer = make_customer(rep, name="李明华", credit_limit=Decimal("1000.00"))
    sales.create_order(customer=customer, lines=[{"product": tea, "quantity": 9}], actor=rep)  # owes 900.00
    # Given the rep enters an order of 200.00 for a customer with 100.00 of credit left
    page = open_page(rep)
    page.goto("/orders/new/")
    page.get_by_label("Find a customer").fill("lmh")
    expect(page.locator("#id_customer option", has_text="李明华")).to_have_count(1)
    page.locator("#id_customer").select_option(label="李明华")
    # The form warns before the order is placed
    expect(page.locator("[data-credit-standing]")).to_contain_text("above 100.00 will wait for a manager")
    line = page.locator("#lines tr").nth(0)
    expect(line).not_to_have_class(re.compile("htmx-added"))
    line.get_by_label("Product").select_option(str(tea.pk))
    expect(page.locator("#lines tr").nth(0).get_by_label("Unit price")).to_have_value("100.00")
    page.locator("#lines tr").nth(0).get_by_label("Quantity").fill("2")
    shot(page, "credit-order-form")
    page.get_by_role("button", name="Place order").click()
    # Then the order is held, and the rep sees why and cannot approve it
    expect(page.locator(".messages")).to_contain_text("waits for a manager's credit approval")
    expect(page.locator("#credit-hold")).to_contain_text("would go over the credit limit of 1,000.00")
    expect(page.get_by_role("button", name="Approve credit")).to_have_count(0)
    shot(page, "credit-order-held")
    held = Order.objects.get(customer=customer, status=Order.Status.CREDIT_HOLD)
    # When the manager opens the approval queue from the orders subnav
    page = open_page(manager)
    page.goto("/orders/")
    page.get_by_role("link", name=re.compile("Credit approvals")).click()
    row = page.locator(f'tr[data-order="{held.number}"]')
    expect(row).to_contain_text("900.00")
    expect(row).to_contain_text("200.00")
    shot(page, "credit-approvals")
    row.get_by_role("button", name="Approve").click()
    # Then the order is confirmed and the queue is empty
    expect(page.locator(".messages")).to_contain_text(f"Credit approved: order {held.number} is confirmed.")
    expect(page.get_by_text("Nothing waits for approval")).to_be_visible()
    held.refresh_from_db()
    assert held.status == Order.Status.CONFIRMED
