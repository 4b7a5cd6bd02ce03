"""Lost customers in the browser: a rep moves a customer to lost choosing a reason; the manager sees it
on the lost page, starts the win-back (a task for the rep), and another is given up with a note."""

from django.utils import timezone
from playwright.sync_api import expect

from guanxi.engagement.models import Task
from guanxi.insights.models import WinBack
from tests.factories import make_customer


def test_a_rep_loses_a_customer_with_a_reason_and_the_manager_starts_the_win_back(open_page, rep, manager, screenshot):
    customer = make_customer(rep, name="周强", state="current")
    make_customer(rep, name="吴芳", state="current")
    # Given the rep marks 周强 lost, choosing why
    page = open_page(rep)
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("button", name="Change state").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New state").select_option("lost")
    dialog.get_by_label("Why lost").select_option("competitor")
    dialog.get_by_label("Reason").fill("对手报价低 8%")
    dialog.get_by_role("button", name="Change state").click()
    expect(page.locator(".header-360 .badge")).to_have_text("Lost")
    expect(page.get_by_role("region", name="Lifecycle")).to_contain_text("Competitor")

    # When the manager opens the lost page
    page = open_page(manager)
    page.goto("/insights/lost/")
    row = page.locator("tr", has_text="周强")
    expect(row).to_contain_text("Competitor")
    expect(row).to_contain_text("对手报价低 8%")
    expect(row).to_contain_text("Not started")
    expect(page.locator("#reasons-table tr[data-reason=competitor]")).to_contain_text("1")
    expect(page.locator("[data-chart=chart-reasons-data]")).to_have_attribute("data-drawn", "1")
    page.screenshot(path="/tmp/gx-winback-lost-before.png", full_page=True)

    # And starts the win-back
    row.get_by_role("button", name="Start win-back").click()
    expect(page.locator(".messages")).to_contain_text("Win-back started")
    expect(page.locator("tr", has_text="周强")).to_contain_text("In progress")
    task = Task.objects.get(customer=customer)
    assert task.assignee == rep and "1." in task.description
    screenshot(page, "insights-lost", "en", "desktop")

    # Then a count on the page lists the customers it counts
    page.locator("[data-kpi=attempted] a").click()
    expect(page.locator("#lost-list tbody tr")).to_have_count(1)
    expect(page.locator("#lost-list")).to_contain_text("周强")


def test_the_manager_gives_up_a_win_back_after_confirming_with_a_note(open_page, rep, manager):
    from guanxi.customers import services as customer_services

    customer = make_customer(rep, name="陈静", state="current")
    customer_services.change_state(customer=customer, to="lost", reason="", reason_category="moved_closed", actor=rep)
    page = open_page(manager)
    page.goto("/insights/lost/")
    page.locator("tr", has_text="陈静").get_by_role("link", name="Give up").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Give up winning back 陈静?")
    dialog.get_by_role("button", name="Give up the win-back").click()
    expect(dialog.locator(".errorlist")).to_contain_text("Say why")
    dialog.get_by_label("Why give up?").fill("公司已注销")
    dialog.get_by_role("button", name="Give up the win-back").click()
    expect(page.locator("tr", has_text="陈静")).to_contain_text("Given up")
    expect(page.locator("tr", has_text="陈静")).to_contain_text("公司已注销")
    assert WinBack.objects.get(customer=customer).ended_on == timezone.localdate()
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path="/tmp/gx-winback-lost-phone.png", full_page=True)
